"""Where targets write, as the objects around them change: buffers replaced by a module's
``.to()``/``.double()``/``.half()``, submodules replaced or removed, writes that fail half way,
int places, and the identity keys that find a second writer of a place. Each table runs over
every kind of target."""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import cadence
from cadence import Attribute, EMAUpdate, Item, Modules, TensorValue
from cadence.scheduler.target_set import ABSOLUTE, TargetSet
from cadence.schedules import Constant, Linear
from cadence.validation import InvalidValue


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Dropout(0.4))
        self.head = torch.nn.Dropout(0.1)
        self.register_buffer("temperature", torch.tensor(2.0))


def optimizer() -> torch.optim.SGD:
    """An optimizer of its own: converting a model's dtype leaves it alone."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)


def dropouts(net: torch.nn.Module) -> list[float]:
    return [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)]


# -- 1. a module's buffers replaced by .to(), .double(), .half() ------------------------------
CONVERSIONS = {
    "double": (lambda net: net.double(), torch.float64),
    "half": (lambda net: net.half(), torch.float16),
    "to(float64)": (lambda net: net.to(torch.float64), torch.float64),
    "to(bfloat16)": (lambda net: net.to(dtype=torch.bfloat16), torch.bfloat16),
}
BUFFER_TARGETS = {
    "a bare tensor": lambda net: net.temperature,
    "TensorValue": lambda net: TensorValue(net.temperature),
    "Attribute": lambda net: Attribute(net, "temperature"),
    "Modules": lambda net: Modules(net, "temperature", type=Net),
}


@pytest.mark.parametrize("conversion", CONVERSIONS)
@pytest.mark.parametrize("kind", BUFFER_TARGETS)
def test_a_buffer_target_follows_the_module_or_says_its_tensor_is_gone(kind, conversion):
    net, opt = Net(), optimizer()
    sched = cadence.Scheduler(opt, temperature=Linear(start=1.0, end=0.5, steps=10),
                              targets={"temperature": BUFFER_TARGETS[kind](net)})
    for _ in range(2):
        opt.step()
    assert net.temperature.item() == pytest.approx(2.0 * 0.9)
    convert, dtype = CONVERSIONS[conversion]
    convert(net)
    assert net.temperature.dtype == dtype
    if kind in ("a bare tensor", "TensorValue"):  # the old tensor: nothing holds it, nothing reads it
        with pytest.raises(InvalidValue, match=r"target 'temperature' could not be written at "
                           r"tensor .*is gone: nothing holds it any more.*Attribute\(module, "
                           r"'temperature'\) follows the module"):
            opt.step()
        assert sched.current_step == 2  # the step is undone
        with pytest.raises(InvalidValue, match="target 'temperature': the tensor of .* is gone"):
            sched.current_values()
        return
    buffer = net.temperature
    for t in range(3, 6):
        opt.step()
        expected = torch.tensor(2.0 * (1 - 0.05 * t), dtype=dtype).item()
        assert net.temperature is buffer and buffer.dtype == dtype  # filled in place
        assert buffer.item() == expected
        assert sched.current_values()["temperature"] == [expected]
    # the place's key is the tensor the attribute holds now (the one a TensorValue of it gives)
    assert sched._targets.targets["temperature"].keys() == TensorValue(net.temperature).keys()


# -- 2. Modules follows the model -------------------------------------------------------------
def replace_leaf(net: Net) -> Any:
    net.encoder[1] = torch.nn.Dropout(0.3)
    return net.encoder[1]


def replace_parent(net: Net) -> Any:
    net.encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5))
    return net.encoder[1]


def replace_by_setattr(net: Net) -> Any:
    net.head = torch.nn.Dropout(0.05)
    return net.head


def delete_leaf(net: Net) -> Any:
    del net.decoder[1]  # Sequential numbers its modules again (a new _modules dict)


def delete_sibling(net: Net) -> Any:
    del net.encoder[0]  # encoder's dropout, the same module, is now encoder.0


def delete_attribute(net: Net) -> Any:
    del net.head


def regroup(net: Net) -> Any:
    net.encoder = torch.nn.Sequential(*net.encoder)  # a new parent, the same modules


# what each move does: the places after it, and for each the module's value when found (a new
# module) or None (a module found before, which keeps its base)
MOVES = {
    "a leaf replaced": (replace_leaf, ["encoder.1.p", "decoder.1.p", "head.p"], [0.3, None, None]),
    "a parent replaced": (replace_parent, ["encoder.1.p", "decoder.1.p", "head.p"], [0.5, None, None]),
    "a module set as an attribute": (replace_by_setattr, ["encoder.1.p", "decoder.1.p", "head.p"],
                                     [None, None, 0.05]),
    "a leaf deleted": (delete_leaf, ["encoder.1.p", "head.p"], [None, None]),
    "a sibling deleted": (delete_sibling, ["encoder.0.p", "decoder.1.p", "head.p"], [None, None, None]),
    "an attribute deleted": (delete_attribute, ["encoder.1.p", "decoder.1.p"], [None, None]),
    "a parent regrouped": (regroup, ["encoder.1.p", "decoder.1.p", "head.p"], [None, None, None]),
}
BASES = {"encoder": 0.2, "decoder": 0.4, "head": 0.1}


@pytest.mark.parametrize("move", MOVES)
def test_modules_follows_a_model_whose_modules_move(move):
    net, opt = Net(), optimizer()
    target = Modules(net, "p", type=torch.nn.Dropout)
    sched = cadence.Scheduler(opt, dropout=Linear(start=1.0, end=0.0, steps=10),
                              targets={"dropout": target})
    for _ in range(2):
        opt.step()
    old = dict(net.named_modules())
    change, places, new_bases = MOVES[move]
    change(net)
    opt.step()  # step 3: the modules are found again before its values
    assert sched.places("dropout") == places
    bases = [BASES[place.split(".")[0]] if new is None else new for place, new in zip(places, new_bases)]
    assert sched.state_dict()["bases"]["dropout"] == pytest.approx(bases)
    opt.step()  # step 4
    now = dropouts(net)
    assert now == pytest.approx([b * 0.6 for b in bases], rel=1e-14)
    assert sched.current_values()["dropout"] == now  # what the model holds
    assert sched.value_at(np.array([4]))["dropout"][0].tolist() == pytest.approx(now, rel=1e-14)
    for name, module in old.items():  # a module taken out of the model is written no more
        if isinstance(module, torch.nn.Dropout) and all(module is not m for m in net.modules()):
            assert module.p == pytest.approx(BASES[name.split(".")[0]] * 0.8)
    assert target.generation == (move != "a parent regrouped")  # how often its places changed


def test_modules_costs_one_lookup_per_edge_while_nothing_moves_and_is_found_again_once():
    net = Net()
    target = Modules(net, "p", type=torch.nn.Dropout)
    calls = []
    find = target._find

    def counted() -> Any:
        calls.append(1)
        return find()

    target._find = counted  # type: ignore[method-assign]
    assert [target.refresh() for _ in range(3)] == [False] * 3 and calls == []
    net.encoder[1] = torch.nn.Dropout(0.3)
    assert [target.refresh() for _ in range(3)] == [True, False, False] and calls == [1]
    assert target.read() == [0.3, 0.4, 0.1]


def test_modules_that_find_nothing_any_more_refuse_the_step_naming_it():
    net, opt = Net(), optimizer()
    sched = cadence.Scheduler(opt, dropout=Linear(start=1.0, end=0.0, steps=10),
                              targets={"dropout": Modules(net, "p", name="head")})
    opt.step()
    net.head = torch.nn.Identity()
    with pytest.raises(InvalidValue, match=r"Modules\(Net, 'p', name 'head': 1 found\): its "
                       r"modules moved, and finding them again failed: Modules found no module"):
        opt.step()
    assert sched.current_step == 1
    # what only names the places keeps the last found: messages and checkpoints still work
    assert sched.places("dropout") == ["head.p"] and "dropout" in repr(sched)
    assert sched.state_dict()["bases"]["dropout"] == [0.1]


def test_a_target_set_follows_a_refresh_made_by_someone_else():
    net = Net()
    target = Modules(net, "p", type=torch.nn.Dropout)
    bound = TargetSet({"p": target}, {"p": Linear(start=1.0, end=0.0, steps=10)}, {})
    net.head = torch.nn.Dropout(0.5)
    assert target.places()[-1] == "head.p"  # this found the new module
    assert bound.tracks["p"].bases == [0.2, 0.4, 0.5]
    assert bound.value_at(5.0)["p"] == pytest.approx([0.1, 0.2, 0.25])


# -- 3. writes are all or none ----------------------------------------------------------------
class Validated:
    """A loss whose weight's setter refuses values below 0.5."""

    def __init__(self) -> None:
        self._weight = 1.0

    @property
    def weight(self) -> float:
        return self._weight

    @weight.setter
    def weight(self, value: float) -> None:
        if value < 0.5:
            raise ValueError(f"weight must be >= 0.5, got {value}")
        self._weight = value


class DropPath(torch.nn.Module):
    def __init__(self, rate: float) -> None:
        super().__init__()
        self._rate = rate

    @property
    def drop_prob(self) -> float:
        return self._rate

    @drop_prob.setter
    def drop_prob(self, value: float) -> None:
        if value > 0.25:
            raise ValueError(f"drop_prob must be <= 0.25, got {value}")
        self._rate = value


class Holder:
    def __init__(self) -> None:
        self.scale = 1.0


def setter_refuses(world: dict) -> tuple[Any, str]:
    return Attribute(world["loss"], "weight"), "Validated.weight"  # 0.4 is below its 0.5


def attribute_deleted(world: dict) -> tuple[Any, str]:
    world["break"] = lambda: delattr(world["holder"], "scale")
    return Attribute(world["holder"], "scale"), "Holder.scale"


def key_removed(world: dict) -> tuple[Any, str]:
    table = {"late": 1.0}
    world["break"] = lambda: table.pop("late")
    return Item(table, "late"), "['late']"


def tensor_dropped(world: dict) -> tuple[Any, str]:
    world["doomed"] = torch.tensor(1.0)
    world["break"] = lambda: world.pop("doomed")  # then nothing holds it
    return TensorValue(world["doomed"]), "tensor"


def tensor_refuses_fill(world: dict) -> tuple[Any, str]:
    with torch.inference_mode():
        world["inference"] = torch.tensor(1.0)
    return TensorValue(world["inference"]), "tensor"  # fill_ outside inference mode raises


def module_setter_refuses(world: dict) -> tuple[Any, str]:
    model = torch.nn.Sequential(DropPath(0.1), DropPath(1.0), DropPath(0.2))  # 0.4 is too much
    world["own places"] = lambda: [m.drop_prob for m in model] == [0.1, 1.0, 0.2]
    return Modules(model, "drop_prob", type=DropPath), "1.drop_prob"


def module_attribute_deleted(world: dict) -> tuple[Any, str]:
    model = torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Dropout(0.2))
    world["break"] = lambda: delattr(model[1], "p")
    world["own places"] = lambda: model[0].p == 0.1
    return Modules(model, "p", type=torch.nn.Dropout), "1.p"


FAILURES = {
    "a validating setter refuses": (setter_refuses, "ValueError: weight must be >= 0.5"),
    "an attribute deleted": (attribute_deleted, "AttributeError"),
    "a dict entry removed": (key_removed, "KeyError"),
    "a tensor nobody holds": (tensor_dropped, "InvalidValue: the tensor of TensorValue.* is gone"),
    "a tensor that refuses fill_": (tensor_refuses_fill, "RuntimeError: Inplace update to inference"),
    "a module's setter refuses": (module_setter_refuses, "ValueError: drop_prob must be <= 0.25"),
    "a module's attribute deleted": (module_attribute_deleted, "AttributeError"),
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_write_that_fails_puts_back_every_place_written_before_it(failure):
    """Targets of every kind are written before the failing one; each holds what it held."""
    world: dict[str, Any] = {"loss": Validated(), "holder": Holder()}
    net = Net()
    weights = {"aux": 0.5, "distill": torch.tensor(1.0, dtype=torch.float64)}
    make, cause = FAILURES[failure]
    failing, place = make(world)
    targets = {"attribute": Attribute(Holder(), "scale"), "item": Item(weights, "aux"),
               "tensor item": Item(weights, "distill"), "buffer": TensorValue(net.temperature),
               "dropout": Modules(net, "p", type=torch.nn.Dropout), "ema": EMAUpdate(0.9),
               "failing": failing}
    bound = TargetSet(targets, {name: Constant(0.4) for name in targets}, {"ema": ABSOLUTE})
    world.get("break", lambda: None)()
    before = {name: target.read() for name, target in targets.items() if name != "failing"}
    tensors = (weights["distill"], net.temperature)
    values = bound.values(1.0)
    with pytest.raises(InvalidValue, match=rf"target 'failing' could not be written at "
                       rf"{re.escape(place)} \(.*\): {cause}") as caught:
        bound.write(values)
    assert caught.value.__cause__ is not None and "put back" in str(caught.value)
    assert {name: target.read() for name, target in targets.items() if name != "failing"} == before
    assert (weights["distill"], net.temperature) == tensors  # the same tensors, filled back
    assert world.get("own places", lambda: True)()  # the failing target's own, too


def test_a_failed_step_moves_no_target_and_the_step_is_undone():
    loss, holder = Validated(), Holder()
    opt = optimizer()
    sched = cadence.Scheduler(opt, scale=Linear(start=1.0, end=0.0, steps=4),
                              weight=Linear(start=1.0, end=0.0, steps=4),
                              targets={"scale": Attribute(holder, "scale"),
                                       "weight": Attribute(loss, "weight")})
    opt.step()
    opt.step()  # weight 0.5: the last the setter takes
    with pytest.raises(InvalidValue, match=r"target 'weight' could not be written at "
                       r"Validated.weight .*ValueError: weight must be >= 0.5, got 0.25"):
        opt.step()
    assert (holder.scale, loss.weight, sched.current_step) == (0.5, 0.5, 2)


def test_a_failed_target_write_leaves_the_lr_as_it_was():
    loss = Validated()
    opt = optimizer()
    sched = cadence.Scheduler(opt, lr=Linear(start=1.0, end=0.0, steps=4),
                              weight=Linear(start=1.0, end=0.0, steps=4),
                              targets={"weight": Attribute(loss, "weight")})
    opt.step()
    opt.step()
    with pytest.raises(InvalidValue):
        opt.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.05) and sched.current_step == 2


@dataclass(frozen=True)
class Frozen:
    weight: float = 1.0


class ReadOnly:
    @property
    def weight(self) -> float:
        return 1.0


class ReadOnlyModule(torch.nn.Module):
    @property
    def rate(self) -> float:
        return 0.1


@pytest.mark.parametrize("build, message", [
    (lambda: Attribute(ReadOnly(), "weight"), r"'name': ReadOnly.weight is a read-only property"),
    (lambda: Attribute(Frozen(), "weight"), r"'name': Frozen.weight is a field of a frozen dataclass"),
    (lambda: Attribute(namedtuple("Pair", "weight other")(1.0, 2.0), "weight"),
     r"'name': Pair.weight is a field of a tuple"),
    (lambda: Modules(torch.nn.Sequential(ReadOnlyModule()), "rate", type=ReadOnlyModule),
     r"'attribute': 'rate' of module '0' \(ReadOnlyModule\) is a read-only property"),
])
def test_a_place_that_cannot_be_assigned_is_refused_when_the_target_is_made(build, message):
    with pytest.raises(InvalidValue, match=message):
        build()


# -- 4. an int place keeps holding an int -----------------------------------------------------
class Dataset:
    def __init__(self) -> None:
        self.max_len = 4


class Conv(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.width = 4


INT_TARGETS = {
    "Attribute": lambda: (lambda d: Attribute(d, "max_len"), Dataset(), lambda d: d.max_len),
    "Item": lambda: (lambda d: Item(d, "max_len"), {"max_len": 4}, lambda d: d["max_len"]),
    "Modules": lambda: (lambda m: Modules(m, "width", type=Conv), torch.nn.Sequential(Conv()),
                        lambda m: m[0].width),
}


@pytest.mark.parametrize("kind", INT_TARGETS)
def test_an_int_place_keeps_holding_an_int_rounded_half_to_even(kind):
    make, owner, held = INT_TARGETS[kind]()
    opt = optimizer()
    sched = cadence.Scheduler(opt, max_len=Linear(start=1.0, end=2.0, steps=8),
                              targets={"max_len": make(owner)})
    seen = []
    for _ in range(9):
        seen.append(held(owner))
        opt.step()
    assert all(type(v) is int for v in seen)
    # 4 * (1 + t/8) = 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8: ties go to the even neighbour
    assert seen == [4, 4, 5, 6, 6, 6, 7, 8, 8] == [round(4 * (1 + t / 8)) for t in range(9)]
    table = sched.value_at(np.arange(9))["max_len"][:, 0]
    assert table.tolist() == seen  # what the place will hold


def test_target_set_values_are_what_an_int_place_will_hold():
    dataset = Dataset()
    bound = TargetSet({"n": Attribute(dataset, "max_len")},
                      {"n": Linear(start=1.0, end=2.0, steps=8)}, {})
    assert bound.values(3.0) == {"n": [6]} and bound.value_at(1.0) == {"n": [4]}
    assert type(bound.values(3.0)["n"][0]) is int


# -- 5. one key per place: two targets on one place give equal keys ---------------------------
def world() -> dict[str, Any]:
    net = Net()
    table = {"a": 1.0, "b": 2.0, "w": net.temperature}
    other = {"a": 1.0}
    shared = torch.tensor(1.0)
    return {"net": net, "loss": Holder(), "other": Holder(), "table": table, "other table": other,
            "shared": shared, "detached": shared.detach(), "view": shared.view(1),
            "ema": EMAUpdate(0.9)}


PAIRS = [  # (a, b, do they write a place in common)
    (lambda w: Attribute(w["loss"], "scale"), lambda w: Attribute(w["loss"], "scale"), True),
    (lambda w: Attribute(w["loss"], "scale"), lambda w: Attribute(w["other"], "scale"), False),
    (lambda w: Item(w["table"], "a"), lambda w: Item(w["table"], "a"), True),
    (lambda w: Item(w["table"], "a"), lambda w: Item(w["table"], "b"), False),
    (lambda w: Item(w["table"], "a"), lambda w: Item(w["other table"], "a"), False),
    (lambda w: Attribute(w["net"], "temperature"), lambda w: TensorValue(w["net"].temperature), True),
    (lambda w: Item(w["table"], "w"), lambda w: Attribute(w["net"], "temperature"), True),
    (lambda w: Modules(w["net"], "temperature", type=Net), lambda w: TensorValue(w["net"].temperature), True),
    (lambda w: TensorValue(w["shared"]), lambda w: TensorValue(w["detached"]), True),
    (lambda w: TensorValue(w["shared"]), lambda w: TensorValue(w["view"]), True),
    (lambda w: TensorValue(w["shared"]), lambda w: TensorValue(w["net"].temperature), False),
    (lambda w: Modules(w["net"], "p", type=torch.nn.Dropout), lambda w: Attribute(w["net"].head, "p"), True),
    (lambda w: Modules(w["net"], "p", type=torch.nn.Dropout), lambda w: Modules(w["net"], "p", name="encoder.*"), True),
    (lambda w: Modules(w["net"], "p", name="encoder.*"), lambda w: Modules(w["net"], "p", name="decoder.*"), False),
    (lambda w: Modules(w["net"], "p", name="encoder.*"), lambda w: Attribute(w["net"].head, "p"), False),
    (lambda w: w["ema"], lambda w: w["ema"], True),
    (lambda w: w["ema"], lambda w: EMAUpdate(0.9), False),
    (lambda w: w["ema"], lambda w: Attribute(w["ema"], "decay"), False),
]


@pytest.mark.parametrize("index", range(len(PAIRS)))
def test_targets_on_one_place_give_equal_keys(index):
    make_a, make_b, shared = PAIRS[index]
    w = world()
    a, b = make_a(w), make_b(w)
    keys_a, keys_b = a.keys(), b.keys()
    assert len(keys_a) == len(a.places()) and len(keys_b) == len(b.places())
    assert len(set(keys_a)) == len(keys_a)  # one key per place
    assert bool(set(keys_a) & set(keys_b)) is shared


def test_keys_follow_the_places_and_the_target_set_gives_them_by_name():
    w = world()
    net = w["net"]
    bound = TargetSet({"p": Modules(net, "p", type=torch.nn.Dropout), "t": Attribute(net, "temperature")},
                      {"p": Constant(1.0), "t": Constant(1.0)}, {})
    before = bound.keys()
    net.head = torch.nn.Dropout(0.3)
    net.double()
    after = bound.keys()
    assert after["p"][:2] == before["p"][:2] and after["p"][2] == Attribute(net.head, "p").keys()[0]
    assert after["t"] == TensorValue(net.temperature).keys() != before["t"]


# -- copies -----------------------------------------------------------------------------------
def test_a_copied_model_and_scheduler_write_the_copy():
    net, opt = Net(), optimizer()
    targets = {"t": net.temperature, "p": Modules(net, "p", type=torch.nn.Dropout)}
    sched = cadence.Scheduler(opt, t=Linear(start=1.0, end=0.5, steps=4),
                              p=Linear(start=1.0, end=0.5, steps=4), targets=targets)
    for copied in (copy.deepcopy((net, opt, sched)), pickle.loads(pickle.dumps((net, opt, sched)))):
        net2, _, sched2 = copied
        sched2.step()
        sched2.last_epoch = 4
        assert net2.temperature.item() == 1.0 and dropouts(net2) == pytest.approx([0.1, 0.2, 0.05])
        assert net.temperature.item() == 2.0 and dropouts(net) == [0.2, 0.4, 0.1]
        assert math.isclose(sched2.current_values()["t"][0], 1.0)
