"""Targets: values outside the optimizer (attributes, dict entries, tensors in place, every
dropout of a model) moved by the Scheduler with the optimizer's hyperparameters. Each value is
checked against the schedule's formula written out here."""

from __future__ import annotations

import math

import pytest
import torch

import cadence
from cadence import Attribute, Item, Modules, TensorValue
from cadence.schedules import Constant, Cosine, Linear, Warmup


def cosine(t: float, n: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(t, n) / n))


class Loss:
    """A loss with a KL weight and a clipping norm, as a VAE's training loop keeps them."""

    def __init__(self) -> None:
        self.kl_weight = 0.0
        self.clip_norm = 5.0


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.2))
        self.decoder = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Dropout(0.4))
        self.head = torch.nn.Dropout(0.1)
        self.register_buffer("temperature", torch.tensor(2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.decoder(self.encoder(x))) / self.temperature


def sgd(model: torch.nn.Module, lr: float = 0.1) -> torch.optim.SGD:
    return torch.optim.SGD(model.parameters(), lr=lr)


def test_an_attribute_follows_its_schedule_absolute_and_relative_with_the_lr():
    net, loss = Net(), Loss()
    opt = sgd(net)
    sched = cadence.Scheduler(
        opt, lr=Cosine(steps=20),
        kl_weight=Linear(start=0.0, end=1.0, steps=10), clip_norm=Cosine(start=1.0, end=0.2, steps=20),
        targets={"kl_weight": Attribute(loss, "kl_weight"), "clip_norm": Attribute(loss, "clip_norm")},
        absolute=["kl_weight"])
    for t in range(25):
        assert loss.kl_weight == min(t, 10) / 10  # absolute: the schedule's value
        assert loss.clip_norm == pytest.approx(5.0 * (0.2 + 0.8 * cosine(t, 20)), rel=1e-13)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * cosine(t, 20), rel=1e-13, abs=1e-17)
        opt.step()
        sched.step()
    assert sched.targets == ("kl_weight", "clip_norm") and sched.hyperparameters == ("lr",)
    assert sched.bases("clip_norm") == [5.0] and sched.places("kl_weight") == ["Loss.kl_weight"]


def test_a_dict_entry_and_a_tensor_attribute_are_written_in_place():
    weights = {"aux": 0.5, "distill": torch.tensor(1.0, dtype=torch.float64)}
    net = Net()
    buffer = net.temperature
    opt = sgd(net)
    sched = cadence.Scheduler(
        opt, aux=Linear(start=1.0, end=0.0, steps=4), distill=Constant(0.25),
        temperature=Linear(start=1.0, end=0.5, steps=4),
        targets={"aux": Item(weights, "aux"), "distill": Item(weights, "distill"),
                 "temperature": Attribute(net, "temperature")})
    for t in range(6):
        assert weights["aux"] == 0.5 * max(0.0, 1 - t / 4)
        assert weights["distill"].item() == 0.25 and weights["distill"].dtype == torch.float64
        assert net.temperature is buffer  # the registered buffer, filled in place
        assert net.temperature.item() == pytest.approx(2.0 * (1 - 0.5 * min(t, 4) / 4))
        opt.step()
        sched.step()


def test_a_tensor_target_keeps_its_identity_dtype_and_takes_the_rounded_value():
    weight = torch.tensor(1.0, dtype=torch.float16)
    opt = sgd(Net())
    sched = cadence.Scheduler(opt, w=Cosine(start=1.0, end=0.0, steps=7), targets={"w": weight})
    seen = []
    for _ in range(8):
        seen.append(weight.item())
        opt.step()
        sched.step()
    expected = [float(torch.tensor(cosine(t, 7), dtype=torch.float16)) for t in range(8)]
    assert seen == expected and weight.dtype == torch.float16


def test_every_dropout_by_type_each_relative_to_its_own_base():
    net = Net()
    opt = sgd(net)
    sched = cadence.Scheduler(opt, dropout=Linear(start=1.0, end=0.0, steps=10),
                              targets={"dropout": Modules(net, "p", type=torch.nn.Dropout)})
    assert sched.places("dropout") == ["encoder.1.p", "decoder.1.p", "head.p"]
    for t in range(12):
        factor = max(0.0, 1 - t / 10)
        assert [net.encoder[1].p, net.decoder[1].p, net.head.p] == pytest.approx(
            [0.2 * factor, 0.4 * factor, 0.1 * factor], rel=1e-14, abs=1e-17)
        opt.step()
        sched.step()


def test_modules_by_name_glob_and_by_class_name():
    net = Net()
    by_name = Modules(net, "p", name="encoder.*")
    assert by_name.places() == ["encoder.1.p"]
    by_class = Modules(net, "p", type="Dropout", name="*coder*")
    assert by_class.places() == ["encoder.1.p", "decoder.1.p"]
    opt = sgd(net)
    cadence.Scheduler(opt, p=Constant(0.3), targets={"p": by_class}, absolute=True)
    assert (net.encoder[1].p, net.decoder[1].p, net.head.p) == (0.3, 0.3, 0.1)


def test_a_dropout_probability_outside_0_1_is_refused_and_nothing_moves():
    net = Net()
    opt = sgd(net)
    sched = cadence.Scheduler(
        opt, lr=Linear(start=1.0, end=0.5, steps=4), p=Linear(start=1.0, end=4.0, steps=3),
        targets={"p": Modules(net, "p", type=torch.nn.Dropout)})
    opt.step()
    sched.step()  # 0.4 * 2 = 0.8 at step 1
    before = (opt.param_groups[0]["lr"], net.decoder[1].p, sched.current_step)
    with pytest.raises(ValueError, match=r"'p' must be a number in \[0, 1\] \(got 1\.2.* for decoder\.1\.p at step 2"):
        opt.step()  # the update's hook moves to step 2: 0.4 * 3 = 1.2
    assert (opt.param_groups[0]["lr"], net.decoder[1].p, sched.current_step) == before


def test_bounds_on_any_target():
    loss = Loss()
    opt = sgd(Net())
    with pytest.raises(ValueError, match=r"'clip_norm' must be a finite number >= 1 \(got 0\.5"):
        cadence.Scheduler(opt, clip_norm=Constant(0.5), absolute=True,
                          targets={"clip_norm": Attribute(loss, "clip_norm", bounds=(1.0, math.inf))})
    assert loss.clip_norm == 5.0


@pytest.mark.parametrize("build, message", [
    (lambda o, n, loss: cadence.Scheduler(o, targets={"kl_weight": Attribute(loss, "kl_weight")}),
     "target 'kl_weight' has no schedule: pass kl_weight=<schedule>"),
    (lambda o, n, loss: cadence.Scheduler(o, kl_weight=Linear(steps=5), targets={"kl_weight": Attribute(loss, "kl_weight")}),
     "target 'kl_weight' holds 0 .*give 'kl_weight' in 'absolute'"),
    (lambda o, n, loss: cadence.Scheduler(o, kl_weight={0: Linear(steps=5)}, absolute=True,
                                       targets={"kl_weight": Attribute(loss, "kl_weight")}),
     "'kl_weight' must be a Schedule or a number"),
    (lambda o, n, loss: cadence.Scheduler(o, lr=Linear(steps=5), targets={"lr": Attribute(loss, "clip_norm")}),
     "'targets' names 'lr', a hyperparameter of the optimizer's param groups"),
    (lambda o, n, loss: cadence.Scheduler(o, w=Linear(steps=5), targets={"w": 3.0}),
     r"'targets\['w'\]' must be a target"),
    (lambda o, n, loss: cadence.Scheduler(o, w=Linear(steps=5), targets=[("w", 1)]), "'targets' must be a dict"),
    (lambda o, n, loss: Attribute(loss, "kl"), "'name': Loss has no attribute 'kl'"),
    (lambda o, n, loss: Attribute(n, "encoder"), "attribute 'encoder' of Net must hold a number"),
    (lambda o, n, loss: Item({}, "a"), "'key' 'a' is not in the mapping"),
    (lambda o, n, loss: TensorValue(torch.zeros(3)), "must hold a number or a one-element floating tensor"),
    (lambda o, n, loss: TensorValue(torch.tensor(3)), "must hold a number or a one-element floating tensor"),
    (lambda o, n, loss: Modules(n, "p"), "Modules needs 'type' or 'name'"),
    (lambda o, n, loss: Modules(n, "p", type=torch.nn.Conv2d), "Modules found no module of Net with type 'Conv2d'"),
    (lambda o, n, loss: Modules(n, "p", type=torch.nn.Linear), r"'attribute': module 'encoder.0' \(Linear\) has no attribute 'p'"),
    (lambda o, n, loss: Modules(n, "p", name="encoder"), "Modules found no module of Net with name 'encoder' that has the attribute 'p'"),
    (lambda o, n, loss: Modules(n, "p", type=3), "'type' must be a class"),
    (lambda o, n, loss: Attribute(loss, "clip_norm", bounds=(2, 1)), "'bounds' must be a pair"),
    (lambda o, n, loss: cadence.Scheduler(o, lr=Linear(steps=5), clip_norm=Linear(steps=5),
                                          batch_size_mode="linear", base_batch_size=32,
                                          batch_scaled=["lr", "clip_norm"],
                                          targets={"clip_norm": Attribute(loss, "clip_norm")}),
     "'batch_scaled' names the target 'clip_norm'"),
    (lambda o, n, loss: cadence.Scheduler(o, lr=Linear(steps=5), clip_norm=Linear(steps=5),
                                          plateau=cadence.ReduceOnPlateau(applies_to=["clip_norm"]),
                                          targets={"clip_norm": Attribute(loss, "clip_norm")}),
     "'plateau.applies_to'"),
])
def test_mistakes_are_named(build, message):
    net, loss = Net(), Loss()
    with pytest.raises((ValueError, TypeError), match=message):
        build(sgd(net), net, loss)


# -- resume ------------------------------------------------------------------------------
STEPS, SAVE_AT = 16, 7


def training(net: Net, loss: Loss, weights: dict[str, float]) -> tuple[torch.optim.Optimizer, cadence.Scheduler]:
    opt = torch.optim.AdamW(net.parameters(), lr=0.01)
    sched = cadence.Scheduler(
        opt, lr=Warmup(Cosine(steps=STEPS - 3), steps=3),
        kl_weight=Linear(start=0.0, end=1.0, steps=10),
        dropout=Cosine(start=1.0, end=0.0, steps=STEPS),
        temperature=Linear(start=1.0, end=0.5, steps=STEPS),
        aux=Cosine(start=1.0, end=0.1, steps=STEPS),
        targets={"kl_weight": Attribute(loss, "kl_weight"),
                 "dropout": Modules(net, "p", type=torch.nn.Dropout),
                 "temperature": net.temperature, "aux": Item(weights, "aux")},
        absolute=["kl_weight"])
    return opt, sched


def snapshot(net: Net, loss: Loss, weights: dict[str, float], opt: torch.optim.Optimizer) -> tuple:
    return (opt.param_groups[0]["lr"], loss.kl_weight, tuple(m.p for m in net.modules()
            if isinstance(m, torch.nn.Dropout)), net.temperature.item(), weights["aux"],
            tuple(p.detach().clone().tolist() for p in net.parameters()))


def train(net, loss, weights, opt, sched, steps) -> list[tuple]:
    seen = []
    for _ in range(steps):
        t = sched.current_step
        torch.manual_seed(t)
        x = torch.randn(8, 4)
        out = net(x).square().mean() * (1 + loss.kl_weight * weights["aux"])
        out.backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        seen.append(snapshot(net, loss, weights, opt))
    return seen


@pytest.mark.parametrize("order", ["scheduler last", "scheduler first", "built after loading"])
def test_a_resumed_run_is_bit_identical_in_every_load_order(order, tmp_path):
    torch.manual_seed(0)
    parts = Net(), Loss(), {"aux": 2.0}
    initial = {k: v.clone() for k, v in parts[0].state_dict().items()}
    opt, sched = training(*parts)
    straight = train(*parts, opt, sched, STEPS)

    net, loss, weights = Net(), Loss(), {"aux": 2.0}
    net.load_state_dict(initial)
    opt, sched = training(net, loss, weights)
    train(net, loss, weights, opt, sched, SAVE_AT)
    path = tmp_path / "checkpoint.pt"
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict()}, path)

    checkpoint = torch.load(path, weights_only=True)
    net, loss, weights = Net(), Loss(), {"aux": 2.0}  # a fresh process: every value as built
    if order == "built after loading":  # the buffer holds its step-7 value when the scheduler is built
        net.load_state_dict(checkpoint["model"])
        opt, sched = training(net, loss, weights)
        opt.load_state_dict(checkpoint["optimizer"])
        sched.load_state_dict(checkpoint["scheduler"])
    else:
        opt, sched = training(net, loss, weights)
        loads = [lambda: net.load_state_dict(checkpoint["model"]),
                 lambda: opt.load_state_dict(checkpoint["optimizer"]),
                 lambda: sched.load_state_dict(checkpoint["scheduler"])]
        for load in loads if order == "scheduler last" else reversed(loads):
            load()
    assert snapshot(net, loss, weights, opt) == straight[SAVE_AT - 1]
    assert train(net, loss, weights, opt, sched, STEPS - SAVE_AT) == straight[SAVE_AT:]


def test_a_state_saved_with_other_targets_is_refused_naming_the_difference():
    net, loss = Net(), Loss()
    _, sched = training(net, loss, {"aux": 2.0})
    state = sched.state_dict()
    other = cadence.Scheduler(
        sgd(net), lr=Warmup(Cosine(steps=STEPS - 3), steps=3), kl_weight=Linear(start=0.0, end=0.5, steps=10),
        targets={"kl_weight": Attribute(loss, "kl_weight")}, absolute=["kl_weight"])
    with pytest.raises(ValueError, match="its targets: it schedules"):
        other.load_state_dict(state)
    state["layout"]["targets"]["kl_weight"]["schedule"]["end"] = 0.5
    _, again = training(Net(), Loss(), {"aux": 2.0})
    with pytest.raises(ValueError, match="target 'kl_weight' schedule .*'end': 0.5"):
        again.load_state_dict(state)


def test_a_scheduler_of_targets_only_counts_the_optimizers_updates():
    loss = Loss()
    opt = sgd(Net())
    sched = cadence.Scheduler(opt, kl_weight=Linear(start=0.0, end=1.0, steps=4), absolute=True,
                              targets={"kl_weight": Attribute(loss, "kl_weight")})
    for _ in range(3):
        opt.step()
    sched.step()  # with count="updates", the updates moved it: a step() call adds nothing
    assert loss.kl_weight == 0.75 and opt.param_groups[0]["lr"] == 0.1
    assert sched.value_at([0, 2])["kl_weight"].tolist() == [[0.0], [0.5]]


# -- torch.compile ------------------------------------------------------------------------
class Weighted(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 1)
        self.register_buffer("weight", torch.tensor(1.0))
        self.offset = 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x).square().mean() * self.weight + self.offset


def compiled_frames(target_name: str) -> int:
    """How many graphs dynamo compiles for a module whose ``target_name`` a schedule moves
    over 12 training steps."""
    import torch._dynamo

    graphs = []

    def backend(gm: torch.fx.GraphModule, example_inputs: list) -> object:
        graphs.append(gm)
        return gm.forward

    torch._dynamo.reset()
    net = Weighted()
    opt = sgd(net)
    target = TensorValue(net.weight) if target_name == "weight" else Attribute(net, "offset")
    sched = cadence.Scheduler(opt, v=Linear(start=1.0, end=0.1, steps=20), targets={"v": target})
    forward = torch.compile(net, backend=backend)
    x = torch.randn(8, 4)
    for t in range(12):
        value = forward(x)
        v = 1 - 0.9 * t / 20
        expected = (net.lin(x).square().mean() * v + 1.0 if target_name == "weight"
                    else net.lin(x).square().mean() + v)
        torch.testing.assert_close(value, expected)  # the compiled code sees each new value
        value.backward()
        opt.step()
        opt.zero_grad()
        sched.step()
    torch._dynamo.reset()
    return len(graphs)


def test_a_tensor_target_never_recompiles_a_compiled_module():
    assert compiled_frames("weight") == 1


def test_a_float_attribute_read_by_compiled_code_costs_a_recompile():
    # what the docs advise against: dynamo guards on the float and compiles once more
    assert compiled_frames("offset") >= 2


class DropPath(torch.nn.Module):
    """Stochastic depth whose rate is a property with a setter (the setter must run)."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self._rate, self.sets = rate, 0

    @property
    def drop_prob(self) -> float:
        return self._rate

    @drop_prob.setter
    def drop_prob(self, value: float) -> None:
        self.sets += 1
        self._rate = value


def test_module_attributes_plain_or_properties_are_all_written():
    net = torch.nn.Sequential(DropPath(0.1), torch.nn.Linear(2, 2), DropPath(0.3))
    opt = sgd(net)
    sched = cadence.Scheduler(opt, depth=Linear(start=0.0, end=1.0, steps=4),
                              targets={"depth": Modules(net, "drop_prob", type="DropPath")})
    for _ in range(2):
        opt.step()
    assert sched.current_step == 2
    assert (net[0].drop_prob, net[2].drop_prob) == pytest.approx((0.05, 0.15))
    assert net[0].sets == 3  # at construction and after each update


def test_a_losss_own_attribute_label_smoothing_is_used_by_the_loss():
    # nn.CrossEntropyLoss keeps label_smoothing as an attribute and reads it in forward
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.0)
    model = torch.nn.Linear(4, 3)
    opt = sgd(model)
    sched = cadence.Scheduler(opt, smoothing=Linear(start=0.0, end=0.2, steps=5), absolute=True,
                              targets={"smoothing": Attribute(loss_fn, "label_smoothing")})
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    for t in range(7):
        out = model(x)
        expected = torch.nn.functional.cross_entropy(out, y, label_smoothing=0.2 * min(t, 5) / 5)
        loss = loss_fn(out, y)
        assert torch.equal(loss, expected)
        loss.backward()
        opt.step()
        opt.zero_grad()
    assert sched.current_step == 7
