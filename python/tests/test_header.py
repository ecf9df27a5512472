"""The ctypes declarations (penguin/_capi.py) against include/penguin.h."""

import ctypes
import os
import re
import unittest

import penguin
from penguin import _capi, _errors

from support import REPO

SCALARS = {
    "penguin_result_t": ctypes.c_int32,
    "int32_t": ctypes.c_int32,
    "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64,
    "size_t": ctypes.c_size_t,
    "double": ctypes.c_double,
    "int": ctypes.c_int,
}


def header():
    with open(os.path.join(REPO, "include", "penguin.h")) as fh:
        text = fh.read()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def is_pointer(t):
    return (
        t in (ctypes.c_void_p, ctypes.c_char_p)
        or (isinstance(t, type) and issubclass(t, ctypes._Pointer))
        or t is _capi.MODEL_FN
    )


def c_type(decl):
    """A C parameter or return type: a ctypes scalar, 'pointer' or None (void)."""
    decl = re.sub(r"\b(const|struct)\b", "", decl).strip()
    decl = re.sub(r"\s+\w+$", "", decl) if not decl.endswith("*") and len(decl.split()) > 1 else decl
    if "*" in decl or decl in ("penguin_model_fn", "penguin_jacobian_fn"):
        return "pointer"
    if decl == "void":
        return None
    return SCALARS[decl]


class Header(unittest.TestCase):
    def test_functions(self):
        text = header()
        protos = re.findall(r"^([\w ]+?\**)\s*\b(penguin_\w+)\(([^)]*)\);", text, flags=re.M)
        self.assertGreaterEqual(len(protos), 25)
        declared = {name: (restype, argtypes) for name, restype, argtypes in _capi.FUNCTIONS}
        self.assertEqual(sorted(declared), sorted(p[1] for p in protos))
        for ret, name, params in protos:
            restype, argtypes = declared[name]
            params = " ".join(params.split())
            args = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
            self.assertEqual(len(args), len(argtypes), name)
            want = c_type(ret.strip())
            if want == "pointer":
                self.assertTrue(is_pointer(restype), name)
            else:
                self.assertIs(restype, want, name)
            for a, t in zip(args, argtypes):
                # "double *y_out" -> type "double *"
                typ = re.sub(r"\b\w+$", "", a).strip() if not a.endswith("*") else a
                want = c_type(typ)
                if want == "pointer":
                    self.assertTrue(is_pointer(t), "%s: %s" % (name, a))
                else:
                    self.assertIs(t, want, "%s: %s" % (name, a))

    def test_status_struct(self):
        body = re.search(r"typedef struct penguin_nn_status_t \{(.*?)\} penguin_nn_status_t;", header(), re.S).group(1)
        fields = re.findall(r"(\w+)\s+(\w+)(\[\w+\])?;", body)
        self.assertEqual([f[1] for f in fields], [f[0] for f in _capi.NNStatus._fields_])
        for (typ, name, array), (_, ctype) in zip(fields, _capi.NNStatus._fields_):
            if array:
                self.assertEqual(array, "[PENGUIN_MAX_PARAMS]")
                self.assertIs(ctype._type_, SCALARS[typ])
                self.assertEqual(ctype._length_, _capi.MAX_PARAMS)
            else:
                self.assertIs(ctype, SCALARS[typ], name)
        # The batch's record type is a view of the struct.
        self.assertEqual(penguin.STATUS_DTYPE.itemsize, ctypes.sizeof(_capi.NNStatus))

    def test_constants(self):
        defines = dict(re.findall(r"#define PENGUIN_(\w+) (\d+)\s*$", header(), flags=re.M))
        self.assertEqual(int(defines["VERSION_MAJOR"]), _capi.VERSION_MAJOR)
        self.assertEqual(int(defines["VERSION_MINOR"]), _capi.VERSION_MINOR)
        self.assertEqual(int(defines["MAX_PARAMS"]), _capi.MAX_PARAMS)
        for k in ("CONTINUE", "CONVERGED", "REACHED_E_PRED", "OK"):
            self.assertEqual(int(defines[k]), getattr(_capi, k), k)
        self.assertEqual((penguin.CONTINUE, penguin.CONVERGED, penguin.REACHED_E_PRED), (0, 1, 2))
        codes = {int(v): k[len("ERROR_"):] for k, v in defines.items() if k.startswith("ERROR_")}
        self.assertEqual(codes, _capi.ERROR_CODES)
        # Every code has its exception class, exported by the package.
        for code in codes:
            cls = _errors.BY_CODE[code]
            self.assertTrue(issubclass(cls, penguin.PenguinError))
            self.assertIs(getattr(penguin, cls.__name__), cls)
        self.assertIs(_errors.BY_CODE[17], penguin.BusyError)

    def test_library_version(self):
        with open(os.path.join(REPO, "Cargo.toml")) as fh:
            version = re.search(r'^version\s*=\s*"([^"]+)"', fh.read(), re.M).group(1)
        self.assertEqual(penguin.version(), version)
        self.assertEqual(penguin.__version__, version)
        # Loaded from the package, by absolute path.
        self.assertTrue(os.path.isabs(_capi.LIBRARY_PATH))
        self.assertEqual(os.path.dirname(_capi.LIBRARY_PATH), os.path.dirname(os.path.abspath(penguin.__file__)))
        self.assertTrue(_capi.LIBRARY_PATH.endswith("libpenguin.so.0.2"))


if __name__ == "__main__":
    unittest.main()
