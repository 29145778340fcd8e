"""Recordings and videos checked beyond their first bytes.

``storage.sniff`` decides a file's type from a few magic bytes, which anyone can put in front of anything.
Here each accepted container is walked far enough to show it really is one: the MP3 frame headers (after an
ID3 tag), the RIFF chunks of a WAV, the frames of an AMR recording, the pages of an Ogg stream (the first
one's checksum too), the EBML elements of a WebM, the boxes of an ISO media file (MP4, M4A, 3GP, MOV). No
sample is decoded: the files are served as downloads and never played by the server, so the point is that
what is kept is the kind of file it claims to be, not that it plays. A type without a check here is refused.

``problem`` answers ``None`` for a plausible file, else a short English reason (shown in the refusal).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from shiyu.core.storage import FileType

# -- MP3 -------------------------------------------------------------------------------------------------

# Bit rates (kbit/s) by bit-rate index 1..14: (MPEG-1, layer) and (MPEG-2/2.5, layer); layer 1, 2, 3.
_MPEG1_RATES = {
    1: (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    2: (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    3: (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
}
_MPEG2_RATES = {
    1: (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    2: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    3: (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sampling rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1) and rate index 0..2.
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


def _mpeg_frame_length(data: bytes, at: int) -> int | None:
    """The length of the MPEG audio frame whose header starts at ``at``, or None when there is none."""
    if at + 4 > len(data):
        return None
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if data[at] != 0xFF or (b1 & 0xE0) != 0xE0:
        return None
    version, layer_bits, rate_index, sr_index = (b1 >> 3) & 3, (b1 >> 1) & 3, b2 >> 4, (b2 >> 2) & 3
    if version == 1 or layer_bits == 0 or rate_index in (0, 15) or sr_index == 3 or (b3 & 3) == 2:
        return None  # reserved version, layer, free/bad bit rate, rate or emphasis
    layer = 4 - layer_bits
    bitrate = (_MPEG1_RATES if version == 3 else _MPEG2_RATES)[layer][rate_index - 1] * 1000
    sample_rate, padding = _SAMPLE_RATES[version][sr_index], (b2 >> 1) & 1
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    per_frame = 72 if layer == 3 and version != 3 else 144
    return per_frame * bitrate // sample_rate + padding


def _id3_end(data: bytes) -> int | None:
    """Where the ID3v2 tags at the start end (0 without one), None for a broken tag header."""
    at = 0
    while data[at:at + 3] == b"ID3":
        header = data[at:at + 10]
        if len(header) < 10 or header[3] not in (2, 3, 4) or any(b & 0x80 for b in header[6:10]):
            return None
        size = (header[6] << 21) | (header[7] << 14) | (header[8] << 7) | header[9]
        at += 10 + size + (10 if header[5] & 0x10 else 0)
    return at


def _mp3(data: bytes) -> str | None:
    at = _id3_end(data)
    if at is None:
        return "broken ID3 tag"
    length = _mpeg_frame_length(data, at)
    if length is None:
        return "no MPEG audio frame"
    after = at + length
    if after < len(data) and data[after:after + 3] != b"TAG" and _mpeg_frame_length(data, after) is None:
        return "no MPEG audio frame after the first"
    return None


# -- WAV -------------------------------------------------------------------------------------------------


def _wav(data: bytes) -> str | None:
    at, fmt_ok = 12, False
    while at + 8 <= len(data):
        chunk, size = data[at:at + 4], struct.unpack_from("<I", data, at + 4)[0]
        if chunk == b"fmt ":
            if size < 16 or at + 8 + 16 > len(data):
                return "short format chunk"
            tag, channels, rate = struct.unpack_from("<HHI", data, at + 8)
            fmt_ok = tag != 0 and 1 <= channels <= 8 and 1000 <= rate <= 384_000
            if not fmt_ok:
                return "implausible format chunk"
        elif chunk == b"data":
            return None if fmt_ok else "data before the format chunk"
        at += 8 + size + (size & 1)
    return "no data chunk"


# -- AMR -------------------------------------------------------------------------------------------------

# Frame size in bytes, header included, by frame type (None: not allowed in a file).
_AMR_NB: tuple[int | None, ...] = (13, 14, 16, 18, 20, 21, 27, 32, 6, None, None, None, None, None, None, 1)
_AMR_WB: tuple[int | None, ...] = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, None, None, None, None, 1, 1)


def _amr(data: bytes) -> str | None:
    if data.startswith(b"#!AMR-WB\n"):
        at, sizes = 9, _AMR_WB
    elif data.startswith(b"#!AMR\n"):
        at, sizes = 6, _AMR_NB
    else:
        return "not a single-channel AMR file"
    if at >= len(data):
        return "no frames"
    while at < len(data):
        header = data[at]
        size = sizes[(header >> 3) & 0x0F]
        if header & 0x83 or size is None:
            return "broken frame header"
        at += size
    return None if at == len(data) else "truncated frame"


# -- Ogg -------------------------------------------------------------------------------------------------

_OGG_CODECS = (b"OpusHead", b"\x01vorbis", b"Speex   ", b"\x7fFLAC")


def ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, not reflected, initial 0), over a page with its CRC zeroed."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        crc &= 0xFFFFFFFF
    return crc


def _ogg(data: bytes) -> str | None:
    at, first = 0, True
    while at < len(data):
        if data[at:at + 4] != b"OggS" or at + 27 > len(data) or data[at + 4] != 0 or data[at + 5] & 0xF8:
            return "broken page header"
        count = data[at + 26]
        segments = data[at + 27:at + 27 + count]
        end = at + 27 + count + sum(segments)
        if len(segments) < count or end > len(data):
            return "truncated page"
        if first:
            page = bytearray(data[at:end])
            stored = struct.unpack_from("<I", page, 22)[0]
            page[22:26] = b"\x00\x00\x00\x00"
            body = data[at + 27 + count:end]
            if not data[at + 5] & 0x02 or ogg_crc(bytes(page)) != stored or not body.startswith(_OGG_CODECS):
                return "first page is not the start of an audio stream"
            first = False
        at = end
    return None


# -- WebM (Matroska) -------------------------------------------------------------------------------------

_EBML, _DOC_TYPE, _SEGMENT, _TRACKS, _CLUSTER = 0x1A45DFA3, 0x4282, 0x18538067, 0x1654AE6B, 0x1F43B675
# Top-level elements of a segment: SeekHead, Info, Tracks, Cluster, Cues, Tags, Chapters, Attachments,
# Void, CRC-32.
_SEGMENT_CHILDREN = {0x114D9B74, 0x1549A966, _TRACKS, _CLUSTER, 0x1C53BB6B, 0x1254C367, 0x1043A770, 0x1941A469,
                     0xEC, 0xBF}
_UNKNOWN = -1


def _vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``at``: (value, length); sizes of all ones are ``_UNKNOWN``."""
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    raw = int.from_bytes(data[at:at + length], "big")
    if keep_marker:
        return raw, length
    value = raw & ((1 << (7 * length)) - 1)
    return (_UNKNOWN if value == (1 << (7 * length)) - 1 else value), length


def _element(data: bytes, at: int) -> tuple[int, int, int] | None:
    """(id, where its content starts, its size or ``_UNKNOWN``) of the element at ``at``."""
    ident = _vint(data, at, keep_marker=True)
    if ident is None or ident[1] > 4:
        return None
    size = _vint(data, at + ident[1], keep_marker=False)
    if size is None:
        return None
    return ident[0], at + ident[1] + size[1], size[0]


def _webm(data: bytes) -> str | None:
    header = _element(data, 0)
    if header is None or header[0] != _EBML or header[2] == _UNKNOWN or header[1] + header[2] > len(data):
        return "broken EBML header"
    at, doc_type = header[1], None
    while at < header[1] + header[2]:
        child = _element(data, at)
        if child is None or child[2] == _UNKNOWN:
            return "broken EBML header"
        if child[0] == _DOC_TYPE:
            doc_type = data[child[1]:child[1] + child[2]].rstrip(b"\x00")
        at = child[1] + child[2]
    if doc_type != b"webm":
        return "not a WebM document"
    segment = _element(data, at)
    if segment is None or segment[0] != _SEGMENT:
        return "no segment"
    at, end = segment[1], len(data) if segment[2] == _UNKNOWN else min(len(data), segment[1] + segment[2])
    while at < end:
        child = _element(data, at)
        if child is None or child[0] not in _SEGMENT_CHILDREN:
            return "unexpected element in the segment"
        if child[0] == _TRACKS:
            return None
        if child[2] == _UNKNOWN or child[0] == _CLUSTER:
            break
        at = child[1] + child[2]
    return "no track list before the media"


# -- ISO base media (MP4, M4A, 3GP, MOV) -----------------------------------------------------------------


def _fourcc(kind: bytes) -> bool:
    return len(kind) == 4 and all(0x20 <= b <= 0x7E or b == 0xA9 for b in kind)


def _iso(data: bytes) -> str | None:
    at, seen = 0, []
    while at < len(data):
        if at + 8 > len(data):
            return "truncated box header"
        size, kind = struct.unpack_from(">I", data, at)[0], data[at + 4:at + 8]
        header = 8
        if size == 1:
            if at + 16 > len(data):
                return "truncated box header"
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = len(data) - at
        if not _fourcc(kind) or size < header or at + size > len(data):
            return "broken box"
        seen.append(kind)
        at += size
    if not seen or seen[0] != b"ftyp" or not (b"moov" in seen or b"moof" in seen):
        return "no file type and movie boxes"
    brand_size = struct.unpack_from(">I", data, 0)[0]
    if brand_size < 16 or (brand_size - 16) % 4 or not _fourcc(data[8:12]):
        return "broken file type box"
    return None


_CHECKS: dict[str, Callable[[bytes], str | None]] = {
    "audio/mpeg": _mp3,
    "audio/wav": lambda data: _wav(data) if data[:4] == b"RIFF" and data[8:12] == b"WAVE" else "not RIFF/WAVE",
    "audio/amr": _amr,
    "audio/ogg": _ogg,
    "video/webm": _webm,
    "audio/webm": _webm,
    "video/mp4": _iso,
    "audio/mp4": _iso,
    "audio/3gpp": _iso,
    "video/quicktime": _iso,
}


def problem(data: bytes, file_type: FileType) -> str | None:
    """Why ``data`` is not a plausible file of ``file_type`` (None when it is)."""
    check = _CHECKS.get(file_type.mime)
    if check is None:
        return "this type cannot be checked and is not accepted"
    return check(data)
