"""``cadence find-lr --build MODULE:FUNCTION``: the range test on a user's own model and data,
from a real module written to a temporary folder; every mistake in the contract is one line
that names ``--build``."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap

import pytest
import torch

from cadence.cli import main
from cadence.cli.user_task import build, check, parse

SETUP = '''
import torch

def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return [(x[i:i + 32], y[i:i + 32]) for i in range(0, 256, 32)]

def make():
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, optimizer, torch.nn.functional.mse_loss, data()

def as_dict():
    model, optimizer, loss_fn, batches = make()
    return {"model": model, "optimizer": optimizer, "loss_fn": loss_fn, "data": batches,
            "accumulation_steps": 2}

class Setup:
    @staticmethod
    def build():
        return make()

NOT_CALLABLE = 3

def three():
    return make()[:3]

def number():
    return 3

def missing_key():
    return {k: v for k, v in as_dict().items() if k != "loss_fn"}

def unknown_key():
    return {**as_dict(), "epochs": 3}

def not_a_model():
    return ("model",) + make()[1:]

def not_an_optimizer():
    model, _, loss_fn, batches = make()
    return model, model.parameters(), loss_fn, batches

def not_callable_loss():
    model, optimizer, _, batches = make()
    return model, optimizer, 0.5, batches

def text_data():
    return make()[:3] + ("batches",)

def an_iterator():
    return make()[:3] + (iter(data()),)

def not_pairs():
    return make()[:3] + ([torch.ones(4, 4)] * 3,)

def broken():
    raise RuntimeError("the user's own bug")
'''


@pytest.fixture
def setup_module(tmp_path, monkeypatch):
    """A module written to a fresh folder, the current folder; its name is new each time."""
    name = f"lr_setup_{secrets.token_hex(4)}"
    (tmp_path / f"{name}.py").write_text(SETUP, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the loader may add the current folder
    yield name
    sys.modules.pop(name, None)


def run(*args):
    return main(["find-lr", "--iters", "40", "--start", "1e-4", "--end", "10", *args])


def test_a_module_in_the_current_folder(setup_module, capsys, tmp_path):
    assert run("--build", f"{setup_module}:make", "--plot", "f.png") == 0
    out = capsys.readouterr().out
    assert f"LR range test on {setup_module}:make" in out
    assert "(recommended)" in out and "recommended: " in out
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("function", ["make", "as_dict", "Setup.build"])
def test_a_py_file_a_dict_and_a_nested_function(setup_module, capsys, function):
    assert run("--build", f"{setup_module}.py:{function}") == 0
    assert "steepest" in capsys.readouterr().out


def test_the_function_is_called_after_the_generators_are_seeded(setup_module):
    first = build(f"{setup_module}:make", seed=3)
    second = build(f"{setup_module}:make", seed=3)
    other = build(f"{setup_module}:make", seed=4)
    assert torch.equal(first.model[0].weight, second.model[0].weight)
    assert not torch.equal(first.model[0].weight, other.model[0].weight)
    assert build(f"{setup_module}:as_dict").options == {"accumulation_steps": 2}


@pytest.mark.parametrize(("build_arg", "message"), [
    ("{m}", "--build must be MODULE:FUNCTION (a module or a .py file, then a function in it), "
            "such as mypkg.lr_setup:make or train.py:make (got '{m}')"),
    ("{m}:", "--build must be MODULE:FUNCTION"),
    ("{m}:make()", "--build must be MODULE:FUNCTION"),
    ("nowhere.py:make", "--build 'nowhere.py:make': there is no file 'nowhere.py'"),
    ("no_such_module_here:make", "--build 'no_such_module_here:make': cannot import "
                                 "'no_such_module_here' (No module named 'no_such_module_here'"),
    ("a-b:make", "--build 'a-b:make': 'a-b' is neither a module name"),
    ("{m}:mak", "--build '{m}:mak': '{m}' has no attribute 'mak'; did you mean 'make'?"),
    ("{m}:Setup.built", "--build '{m}:Setup.built': '{m}.Setup' has no attribute 'built'"),
    ("{m}:NOT_CALLABLE", "--build '{m}:NOT_CALLABLE': '{m}.NOT_CALLABLE' must be a function that "
                         "returns (model, optimizer, loss_fn, data) (got 3)"),
    ("{m}:three", "--build '{m}:three': three() must return (model, optimizer, loss_fn, data) "
                  "or a dict with those keys (got a tuple of 3)"),
    ("{m}:number", "number() must return (model, optimizer, loss_fn, data) or a dict with those "
                   "keys (got 3)"),
    ("{m}:missing_key", "missing_key() returned a dict that lacks 'loss_fn': its keys must be "
                        "model, optimizer, loss_fn, data and, optionally, accumulation_steps"),
    ("{m}:unknown_key", "unknown_key() returned a dict that has 'epochs', which find_lr does "
                        "not take here"),
    ("{m}:not_a_model", "not_a_model() returned a model that is not a torch.nn.Module (got "
                        "'model')"),
    ("{m}:not_an_optimizer", "not_an_optimizer() returned an optimizer that is not a "
                             "torch.optim.Optimizer (the one you train with) (got <generator"),
    ("{m}:not_callable_loss", "returned a loss_fn that is not callable as "
                              "loss_fn(model(inputs), targets) (got 0.5)"),
    ("{m}:text_data", "text_data() returned data that is not an iterable of (inputs, targets) "
                      "batches, such as a DataLoader (got 'batches')"),
    ("{m}:an_iterator", "an_iterator() returned data that is an iterator: it runs out"),
    ("{m}:not_pairs", "--build '{m}:not_pairs': 'data' must yield (inputs, targets) pairs (got "
                      "a Tensor)"),
])
def test_every_mistake_is_one_line_naming_build(setup_module, capsys, build_arg, message):
    assert run("--build", build_arg.format(m=setup_module)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith("cadence find-lr: error: ")
    assert message.format(m=setup_module) in line


def test_an_error_in_the_users_code_keeps_its_traceback(setup_module):
    with pytest.raises(RuntimeError, match="the user's own bug"):
        run("--build", f"{setup_module}:broken")


def test_a_module_that_imports_a_missing_package_keeps_its_traceback(tmp_path, monkeypatch):
    (tmp_path / "needs_more.py").write_text("import not_installed_anywhere\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(ModuleNotFoundError, match="not_installed_anywhere"):
        run("--build", "needs_more:make")
    sys.modules.pop("needs_more", None)


def test_the_form_is_parsed_before_anything_is_imported():
    assert parse("a.b.c:make") == ("a.b.c", "make")
    assert parse("C:/work/setup.py:make") == ("C:/work/setup.py", "make")  # the last colon
    with pytest.raises(ValueError, match="--build must be MODULE:FUNCTION"):
        check((), ":make")


def test_help_documents_the_contract():
    done = subprocess.run([sys.executable, "-m", "cadence", "find-lr", "--help"],
                          capture_output=True, text=True, timeout=120)
    text = " ".join(done.stdout.split())
    assert done.returncode == 0
    for words in ("--build MODULE:FUNCTION", "returns (model, optimizer, loss_fn, data)",
                  "a DataLoader or a list", "accumulation_steps, autocast_dtype",
                  "the sweep replaces its lr", "docs/find-lr.md"):
        assert words in text, words


def test_a_real_module_from_the_command_line(tmp_path):
    (tmp_path / "vae_setup.py").write_text(textwrap.dedent(SETUP), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cadence", "find-lr", "--build",
                           "vae_setup:as_dict", "--iters", "30"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "LR range test on vae_setup:as_dict" in done.stdout
