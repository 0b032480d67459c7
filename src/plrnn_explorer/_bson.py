"""A small pure-Python reader for BSON files as written by Julia's BSON.jl.

Two layers:

* :func:`parse_bson` decodes the binary BSON format (bsonspec.org, version
  1.1) into Python values: documents become ``dict``, arrays ``list``, binary
  data ``bytes``;
* :func:`decode_julia` resolves BSON.jl's tagged documents (``{"tag": ...}``)
  into NumPy arrays, :class:`JuliaType` and :class:`JuliaStruct` values, and
  follows its back-references (the top-level ``_backrefs`` list).

Julia arrays are column-major: an ``M x N`` Julia matrix comes back as an
``(M, N)`` NumPy array with the same entries.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["parse_bson", "decode_julia", "JuliaType", "JuliaStruct", "write_julia_struct"]

_BITS_TYPES = {
    "Core.Float64": "<f8", "Core.Float32": "<f4", "Core.Float16": "<f2",
    "Core.Int64": "<i8", "Core.Int32": "<i4", "Core.Int16": "<i2", "Core.Int8": "i1",
    "Core.UInt64": "<u8", "Core.UInt32": "<u4", "Core.UInt16": "<u2", "Core.UInt8": "u1",
    "Core.Bool": "?",
}


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"truncated BSON data at byte {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ValueError(f"unterminated BSON key at byte {self.pos}")
        out = self.data[self.pos:end].decode("utf-8")
        self.pos = end + 1
        return out

    def document(self) -> dict[str, Any]:
        start = self.pos
        length = self.unpack("<i")
        end = start + length
        if length < 5 or end > len(self.data):
            raise ValueError(f"bad BSON document length {length} at byte {start}")
        out: dict[str, Any] = {}
        while True:
            kind = self.take(1)[0]
            if kind == 0:
                break
            key = self.cstring()
            out[key] = self.value(kind)
        if self.pos != end:
            raise ValueError(f"BSON document at byte {start} does not end where its length says")
        return out

    def value(self, kind: int) -> Any:
        if kind == 0x01:
            return self.unpack("<d")
        if kind == 0x02:
            n = self.unpack("<i")
            return self.take(n)[:-1].decode("utf-8")
        if kind == 0x03:
            return self.document()
        if kind == 0x04:
            return list(self.document().values())
        if kind == 0x05:
            n = self.unpack("<i")
            self.take(1)  # subtype
            return self.take(n)
        if kind in (0x06, 0x0A):
            return None
        if kind == 0x07:
            return self.take(12)
        if kind == 0x08:
            return self.take(1) != b"\x00"
        if kind in (0x09, 0x12):
            return self.unpack("<q")
        if kind == 0x10:
            return self.unpack("<i")
        if kind == 0x11:
            return self.unpack("<Q")
        if kind == 0x13:
            return self.take(16)
        raise ValueError(f"unsupported BSON element type 0x{kind:02x} at byte {self.pos}")


def parse_bson(data: bytes) -> dict[str, Any]:
    """Decode one BSON document.

    Examples
    --------
    >>> parse_bson(bytes.fromhex("10000000106100010000000862000100"))
    {'a': 1, 'b': True}
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    r = _Reader(bytes(data))
    doc = r.document()
    if r.pos != len(r.data):
        raise ValueError(f"{len(r.data) - r.pos} trailing bytes after the BSON document")
    return doc


@dataclass(frozen=True)
class JuliaType:
    """A Julia type as BSON.jl stores it: full name (e.g. ``"Core.Array"``) and parameters."""

    name: str
    params: tuple = ()


@dataclass
class JuliaStruct:
    """A Julia struct: its type and its field values in declaration order (BSON.jl stores no field names)."""

    type: JuliaType
    fields: list = field(default_factory=list)


def decode_julia(doc: dict[str, Any]) -> dict[str, Any]:
    """Resolve BSON.jl's tagged documents and back-references in a parsed file.

    Examples
    --------
    >>> raw = {"x": {"tag": "array", "size": [2],
    ...              "type": {"tag": "datatype", "name": ["Core", "Float64"], "params": []},
    ...              "data": np.array([1.0, 2.0]).tobytes()}}
    >>> decode_julia(raw)["x"]
    array([1., 2.])
    """
    backrefs_raw = doc.get("_backrefs", [])
    resolved: dict[int, Any] = {}

    def backref(i: int) -> Any:
        if not 1 <= i <= len(backrefs_raw):
            raise ValueError(f"BSON back-reference {i} out of range (file has {len(backrefs_raw)})")
        if i not in resolved:
            resolved[i] = conv(backrefs_raw[i - 1])
        return resolved[i]

    def conv(v: Any) -> Any:
        if isinstance(v, list):
            return [conv(x) for x in v]
        if not isinstance(v, dict):
            return v
        tag = v.get("tag")
        if tag is None:
            return {k: conv(x) for k, x in v.items()}
        if tag == "backref":
            return backref(int(v["ref"]))
        if tag == "datatype":
            return JuliaType(".".join(v["name"]), tuple(conv(p) for p in v.get("params", [])))
        if tag == "symbol":
            return str(v["name"])
        if tag in ("tuple", "svec"):
            return tuple(conv(x) for x in v["data"])
        if tag == "ref":
            return conv(v["ref"]) if "ref" in v else None
        if tag == "array":
            return _array(conv(v["type"]), [int(n) for n in v["size"]], v["data"], conv)
        if tag == "struct":
            return JuliaStruct(conv(v["type"]), list(conv(v.get("data", []))))
        return {k: conv(x) for k, x in v.items()}  # unions, anonymous functions, ...: left as documents

    return {k: conv(v) for k, v in doc.items() if k != "_backrefs"}


def _array(jtype: Any, size: list[int], data: Any, conv: Any) -> np.ndarray:
    n = int(np.prod(size)) if size else 1
    if isinstance(data, (bytes, bytearray)):
        name = jtype.name if isinstance(jtype, JuliaType) else str(jtype)
        if name not in _BITS_TYPES:
            raise ValueError(f"BSON array of element type {name!r} stored as raw bytes is not supported")
        flat = np.frombuffer(bytes(data), dtype=np.dtype(_BITS_TYPES[name]))
        if flat.size != n:
            raise ValueError(f"BSON array of size {size} holds {flat.size} values")
    else:
        items = conv(data)
        flat = np.empty(len(items), dtype=object)
        flat[:] = items
        if flat.size != n:
            raise ValueError(f"BSON array of size {size} holds {flat.size} values")
    return flat.reshape(size, order="F") if size else flat.reshape(())


# -- writing: the inverse for one model struct, to build test fixtures and examples ------------------------

def _bson_doc(items: dict[str, Any]) -> bytes:
    body = b"".join(_bson_element(k, v) for k, v in items.items())
    return (len(body) + 5).to_bytes(4, "little") + body + b"\x00"


def _bson_element(key: str, v: Any) -> bytes:
    name = key.encode() + b"\x00"
    if isinstance(v, bool):
        return b"\x08" + name + (b"\x01" if v else b"\x00")
    if isinstance(v, int):
        return b"\x12" + name + v.to_bytes(8, "little", signed=True)
    if isinstance(v, float):
        return b"\x01" + name + np.float64(v).tobytes()
    if isinstance(v, str):
        s = v.encode() + b"\x00"
        return b"\x02" + name + len(s).to_bytes(4, "little") + s
    if isinstance(v, bytes):
        return b"\x05" + name + len(v).to_bytes(4, "little") + b"\x00" + v
    if v is None:
        return b"\x0a" + name
    if isinstance(v, list):
        return b"\x04" + name + _bson_doc({str(i): x for i, x in enumerate(v)})
    return b"\x03" + name + _bson_doc(v)


def _julia_datatype(name: str, params: list) -> dict[str, Any]:
    return {"tag": "datatype", "name": name.split("."), "params": params}


def _julia_value(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        jname = {np.dtype("float32"): "Core.Float32", np.dtype("float64"): "Core.Float64"}[v.dtype]
        return {"tag": "array", "type": _julia_datatype(jname, []), "size": [int(n) for n in v.shape],
                "data": np.asfortranarray(v).tobytes(order="F")}
    if isinstance(v, list):
        return [_julia_value(x) for x in v]
    if v is None:
        return {"tag": "struct", "type": _julia_datatype("Core.Nothing", []), "data": []}
    return v


def write_julia_struct(path: str | PathLike, type_name: str, fields: list) -> None:
    """Write ``model = <struct type_name with fields>`` the way BSON.jl lays it out (test fixtures).

    Arrays become tagged ``array`` documents (column-major bytes), ``None``
    becomes ``nothing``, and the struct's type is stored once in
    ``_backrefs`` and referenced, as BSON.jl does.
    """
    doc = {"model": {"tag": "struct", "type": {"tag": "backref", "ref": 1},
                     "data": [_julia_value(v) for v in fields]},
           "_backrefs": [_julia_datatype(type_name, [])]}
    Path(path).write_bytes(_bson_doc(doc))
