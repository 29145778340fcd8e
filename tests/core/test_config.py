import pytest

from shiyu.core.config import DEMO_SECRET, Settings, random_secret


def test_demo_mode_accepts_demo_secrets():
    assert Settings(demo_mode=True).secret_key == DEMO_SECRET


def test_default_secret_refused_outside_demo(monkeypatch):
    monkeypatch.delenv("SHIYU_DEMO_MODE", raising=False)
    with pytest.raises(ValueError, match="SHIYU_SECRET_KEY"):
        Settings(demo_mode=False)


def test_demo_pii_key_refused_outside_demo():
    with pytest.raises(ValueError, match="SHIYU_PII_KEYS"):
        Settings(demo_mode=False, secret_key=random_secret())


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    monkeypatch.setenv("SHIYU_TIMEZONE", "Asia/Urumqi")
    monkeypatch.setenv("SHIYU_LOGIN_FREE_FAILURES", "5")
    s = Settings()
    assert s.tz.key == "Asia/Urumqi" and s.login_free_failures == 5


def test_unknown_timezone_refused():
    with pytest.raises(ValueError):
        Settings(demo_mode=True, timezone="Mars/Olympus")


@pytest.mark.parametrize("url", [
    "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&style=8&x={x}&y={y}&z={z}",
    "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={y}",
    "https://maponline0.bdimg.com/tile/?qt=vtile&x={x}&y={y}&z={z}",
])
def test_offset_tile_sources_are_refused_with_what_to_use(url):
    with pytest.raises(ValueError, match="天地图"):
        Settings(demo_mode=True, tile_url=url)


@pytest.mark.parametrize("url", [
    None, "/tiles/{z}/{x}/{y}.png", "https://tiles.example.gov.cn/{z}/{x}/{y}.png",
    "https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default"
    "&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY",
])
def test_wgs84_tile_sources_are_taken(url):
    assert Settings(demo_mode=True, tile_url=url).tile_url == url
