"""Small but well-formed recordings and videos, built byte by byte: what ``shiyu.core.media`` must accept
(and, cut or corrupted, refuse). No sample is playable — there is no audio in them — only the containers
are real."""

from __future__ import annotations

import io
import struct
import wave

from shiyu.core.media import ogg_crc


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def iso(brand: bytes, *handlers: bytes) -> bytes:
    """An ISO media file (MP4, M4A, 3GP): ftyp, a movie with one track per handler type, media data."""
    ftyp = box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
    tracks = b"".join(box(b"trak", box(b"mdia", box(b"hdlr", b"\x00" * 8 + h + b"\x00" * 13))) for h in handlers)
    return ftyp + box(b"moov", box(b"mvhd", b"\x00" * 100) + tracks) + box(b"mdat", b"\x00" * 64)


def _ebml(ident: int, payload: bytes) -> bytes:
    size = len(payload)
    assert size < 0x3FFF
    head = bytes([0x80 | size]) if size < 0x7F else struct.pack(">H", 0x4000 | size)
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + head + payload


def webm(*codecs: bytes) -> bytes:
    """A WebM as a browser's MediaRecorder writes it: header, a segment of unknown size, info, tracks, then a
    cluster of unknown size."""
    header = _ebml(0x1A45DFA3, _ebml(0x4286, b"\x01") + _ebml(0x4282, b"webm"))
    tracks = _ebml(0x1654AE6B, b"".join(_ebml(0xAE, _ebml(0xD7, bytes([n + 1])) + _ebml(0x86, c))
                                        for n, c in enumerate(codecs)))
    info = _ebml(0x1549A966, _ebml(0x2AD7B1, b"\x0f\x42\x40"))
    cluster = bytes.fromhex("1F43B675") + b"\x01\xff\xff\xff\xff\xff\xff\xff" + _ebml(0xE7, b"\x00")
    return header + bytes.fromhex("18538067") + b"\x01\xff\xff\xff\xff\xff\xff\xff" + info + tracks + cluster


def mp3(frames: int = 3, tag: bool = True) -> bytes:
    """MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames, after an empty ID3v2.4 tag."""
    frame = b"\xff\xfb\x90\x00" + b"\x00" * 413
    return (b"ID3\x04\x00\x00\x00\x00\x00\x00" if tag else b"") + frame * frames


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


def amr(frames: int = 5) -> bytes:
    """AMR-NB at 12.2 kbit/s: a 1-byte frame header (type 7, quality bit) and 31 bytes per frame."""
    return b"#!AMR\n" + (b"\x3c" + b"\x00" * 31) * frames


def _ogg_page(flags: int, sequence: int, packet: bytes) -> bytes:
    assert len(packet) < 255
    page = bytearray(b"OggS\x00" + bytes([flags]) + b"\x00" * 8 + struct.pack("<II", 1, sequence) + b"\x00" * 4
                     + bytes([1, len(packet)]) + packet)
    page[22:26] = struct.pack("<I", ogg_crc(bytes(page)))
    return bytes(page)


def ogg() -> bytes:
    """An Ogg Opus stream: the identification header page, the comment page, one audio page."""
    head = b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00"
    return (_ogg_page(0x02, 0, head) + _ogg_page(0, 1, b"OpusTags\x00\x00\x00\x00\x00\x00\x00\x00")
            + _ogg_page(0x04, 2, b"\xfc" + b"\x00" * 40))
