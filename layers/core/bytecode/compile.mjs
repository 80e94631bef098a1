// Compiles every .py file under a directory to python3.13 bytecode, in CPython 3.13 itself
// (Pyodide: CPython built for WebAssembly), for machines that have Node.js but no python3.13.
//
//   node compile.mjs DIR
//
// It does what `python3.13 -m compileall -q --invalidation-mode unchecked-hash DIR` does:
// __pycache__/NAME.cpython-313.pyc beside each source, checked against nothing at import
// (Lambda unpacks a layer with zip's 2-second times, which would make timestamp-checked files
// stale). Bytecode is the same on every platform of one Python version. Exits 1, naming the
// files, when any file does not compile.
import { loadPyodide } from "pyodide";
import { resolve } from "node:path";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node compile.mjs DIR");
  process.exit(2);
}
const python = await loadPyodide();
python.mountNodeFS("/tree", resolve(dir));
const [version, compiled, failed] = python
  .runPython(
    `
import compileall, contextlib, io, pathlib, py_compile, sys

out = io.StringIO()
with contextlib.redirect_stdout(out):
    compileall.compile_dir(
        "/tree",
        quiet=1,
        workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
tag = sys.implementation.cache_tag
sources = list(pathlib.Path("/tree").rglob("*.py"))
missing = [
    str(s.relative_to("/tree")) for s in sources
    if not (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").is_file()
]
[f"{sys.version_info[0]}.{sys.version_info[1]}", len(sources) - len(missing), missing]
`,
  )
  .toJs();
if (version !== "3.13") {
  console.error(`Pyodide runs Python ${version}, not 3.13: pin a Pyodide 0.28 or 0.29`);
  process.exit(1);
}
if (failed.length) {
  console.error(`not compiled (${failed.length}):\n  ${failed.join("\n  ")}`);
  process.exit(1);
}
console.log(`compiled ${compiled} files to python ${version} bytecode`);
