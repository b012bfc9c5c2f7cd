"""SGD with momentum and Adam as torch's fused kernels, without torch.optim's wrapper.

torch.optim's ``Optimizer`` imports torch's compiler stack (torch._dynamo, about 1.2 s of CPU)
when it is built and at its first step, to mark its methods as not compilable; every training
job paid that at start-up although nothing here compiles. These two call the kernels that
``torch.optim.SGD(fused=True)`` and ``torch.optim.Adam(fused=True)`` call, on the same state,
so their updates are bit-identical to torch's (tests/unit/test_optimizers.py checks it step by
step). They keep what the methods use: ``param_groups`` (a learning rate changed there takes
effect at the next step), ``zero_grad``, ``state_dict`` and ``load_state_dict`` for checkpoints.
Parameters without a gradient at a step are left alone, as torch does. Every parameter must be
a float tensor on one device (fused kernels are per device and dtype).
"""

import torch


class FusedOptimizer:
    """What both share: one parameter group, per-parameter state, checkpointing."""

    def __init__(self, params, **settings):
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        if len({(p.device, p.dtype) for p in params}) > 1:
            raise ValueError("every parameter must be on one device with one dtype")
        self.param_groups = [{"params": params, **settings}]
        self.state: dict[torch.Tensor, dict] = {}

    @property
    def params(self) -> list[torch.Tensor]:
        return self.param_groups[0]["params"]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    def state_dict(self) -> dict:
        """Settings, and each parameter's state keyed by its position in the group."""
        group = {key: value for key, value in self.param_groups[0].items() if key != "params"}
        return {"state": {i: dict(self.state[p]) for i, p in enumerate(self.params) if p in self.state},
                "param_groups": [group]}

    def load_state_dict(self, state_dict: dict) -> None:
        self.param_groups[0].update(state_dict["param_groups"][0])
        self.state = {self.params[int(i)]: {name: value.to(self.params[int(i)].device) if torch.is_tensor(value)
                                            else value for name, value in state.items()}
                      for i, state in state_dict["state"].items()}

    @torch.no_grad()
    def step(self) -> None:
        """Update the parameters that have a gradient."""
        params = [p for p in self.params if p.grad is not None]
        if params:
            self._update(self.param_groups[0], params)


class SGD(FusedOptimizer):
    """``torch.optim.SGD(params, lr, momentum, weight_decay, fused=True)`` (no dampening or Nesterov)."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def _update(self, group: dict, params: list[torch.Tensor]) -> None:
        buffers, first = [], False
        if group["momentum"]:
            # at the first step the kernel copies each gradient into its new buffer; a parameter
            # whose first gradient comes later starts from zeros, which gives the same buffer
            first = all("momentum_buffer" not in self.state.get(p, {}) for p in params)
            for p in params:
                state = self.state.setdefault(p, {})
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.empty_like(p) if first else torch.zeros_like(p)
                buffers.append(state["momentum_buffer"])
        torch._fused_sgd_(params, [p.grad for p in params], buffers, weight_decay=group["weight_decay"],
                          momentum=group["momentum"], lr=group["lr"], dampening=0.0, nesterov=False,
                          maximize=False, is_first_step=first)


class Adam(FusedOptimizer):
    """``torch.optim.Adam(params, lr, betas, eps, weight_decay, fused=True)`` (no AMSGrad)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)

    def _update(self, group: dict, params: list[torch.Tensor]) -> None:
        for p in params:
            if p not in self.state:  # the step count lives on the device, as torch's fused Adam keeps it
                self.state[p] = {"step": torch.zeros((), dtype=torch.float32, device=p.device),
                                 "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                                 "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
        states = [self.state[p] for p in params]
        steps = [s["step"] for s in states]
        torch._foreach_add_(steps, 1)
        beta1, beta2 = group["betas"]
        torch._fused_adam_(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                           [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False, lr=group["lr"],
                           beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"], eps=group["eps"],
                           maximize=False)
