"""Grid sizing from the register: the area page shows the households and persons counted in the register
(with the grid norms' warning) instead of the typed figures, wherever the register holds data."""

from __future__ import annotations

from shiyu.registry import sizing
from tests.factories import populated
from tests.registry.registry_fixtures import member, principal, registered_family
from tests.web.test_pages import log_in


def test_counted_households_and_persons_replace_the_typed_figures(client, system_session):
    w = populated(system_session)
    registered_family(system_session, w, "worker_a1", "operator_a")
    registered_family(system_session, w, "worker_a1", "operator_a", room="502",
                      members=[member("周强"), member("吴芳", "配偶")])
    w.grids["a1"].population, w.grids["a1"].households = 987, 321
    system_session.commit()
    system_session.info["principal"] = principal(system_session, w, "admin")
    counts = sizing.counted(system_session, [w.community_a, w.grids["a1"], w.grids["b1"]])
    assert (counts[w.grids["a1"].id].persons, counts[w.grids["a1"].id].households) == (5, 2)
    assert counts[w.community_a.id].persons == 5 and w.grids["b1"].id not in counts
    assert counts[w.grids["a1"].id].households_off and not counts[w.community_a.id].households_off
    log_in(client, "admin")
    page = client.get(f"/admin/areas?area={w.grids['a1'].id}")
    assert page.status_code == 200
    assert 'id="counted-persons">5 ' in page.text and 'id="counted-households">2 ' in page.text
    assert "户数不在300–500之间" in page.text and "987" not in page.text
    typed = client.get(f"/admin/areas?area={w.grids['b1'].id}")
    assert "counted-persons" not in typed.text
