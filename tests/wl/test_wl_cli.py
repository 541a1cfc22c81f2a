"""python -m netgraph.wl script.wl: prints each top-level value not ending in ;, as a
notebook would; errors go to stderr with their position and exit status 1."""
import subprocess
import sys

from netgraph.wl.__main__ import main


def run(tmp_path, text, capsys):
    script = tmp_path / "s.wl"
    script.write_text(text)
    rc = main([str(script)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_prints_values_of_expressions_not_ending_in_semicolon(tmp_path, capsys):
    rc, out, err = run(tmp_path, 'x = Range[4];\nx^2\nPrint["sum: ", Total[x]]\n'
                                 '(* a comment line *)\n<|"a" -> 1.5|>\nx // Length;\n',
                       capsys)
    assert rc == 0 and not err
    assert out.splitlines() == ["{1, 4, 9, 16}", "sum: 10", '<|"a" -> 1.5|>']


def test_errors_exit_1_with_the_position(tmp_path, capsys):
    rc, out, err = run(tmp_path, "x = 1\ny = Nest[f, x, 2]\n", capsys)
    assert rc == 1 and out == "1\n"
    assert "Unsupported WL function Nest at line 2, column 5" in err
    rc, out, err = run(tmp_path, "f[1,\n  2\n", capsys)
    assert rc == 1 and out == ""
    assert "syntax error at line 3, column 1" in err


def test_missing_file(tmp_path, capsys):
    assert main([str(tmp_path / "nope.wl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_runs_as_a_module_and_reads_stdin():
    done = subprocess.run([sys.executable, "-m", "netgraph.wl", "-"], input="1/2 + 1/3\n",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "5/6\n"
