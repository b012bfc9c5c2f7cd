"""Sweeps: a config's ``grid`` keys expanded into one method (and net) per combination of values.

``methods.<id>.grid: {param: [values], ...}`` runs the method once per combination, each a method
of its own id, ``<id>--<param>-<value>--<param>-<value>`` (keys in alphabetical order), so each
setting has its own run folders and the rest of the workflow treats it as any method:

    dec--lr-0.01--update_interval-140        results/runs/digits/dec--lr-0.01--update_interval-140/seed0/

``nets.<id>.grid: {epochs: [...]}`` pretrains the net once per combination (net ``ae--epochs-10``),
and every method that starts from the net or clusters its embedding runs on each, its settings
then naming the net's as ``<net>.<param>`` (``dec--ae.epochs-10--lr-0.01``). A method that clusters
a UMAP space (N2D) can sweep UMAP's settings in its grid as ``umap.<setting>``; each combination is a
UMAP space of its own (``umap-ae--n_neighbors-10``). Values appear as written: numbers in Python's
shortest form (``0.001``, ``1e-05``), ``true``/``false``/``null``, words as they are, lists joined
by ``_`` (``500_500_2000``). Ids use only letters, digits, ``.``, ``_`` and ``-`` (POSIX's portable
file name characters), so they are valid folder names on every file system and need no quoting.

A setting's spec holds its own values only, never the grid: adding a value to a grid adds runs and
reruns none. This module only rewrites the config's dicts (no imports beyond the standard library:
the Snakefile loads it); which values an estimator accepts is checked by the workflow.
"""

import itertools
import re

SEPARATOR = "--"
UMAP = "umap"
UMAP_PREFIX = "umap-"
MAX_ID = 200  # characters of a setting's id; file names (embedding_<id>.png) stop at 255
WORD = re.compile(r"^[A-Za-z0-9._-]+$")
KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SweepError(ValueError):
    """A grid that cannot be expanded; the message names the key."""


def value_text(value, where: str) -> str:
    """A grid value as it appears in an id."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).replace("e+", "e")
    if isinstance(value, str) and WORD.match(value):
        return value
    if isinstance(value, list) and value and all(not isinstance(v, (list, dict)) for v in value):
        return "_".join(value_text(v, where) for v in value)
    raise SweepError(f"{where}: {value!r} cannot name a folder; grid values are numbers, true/false, null, words of "
                     "letters, digits, '.', '_' and '-', or flat lists of those")


def setting_id(setting: dict, where: str = "grid") -> str:
    """``{"lr": 0.01, "update_interval": 140}`` -> ``lr-0.01--update_interval-140`` (keys sorted)."""
    return SEPARATOR.join(f"{key}-{value_text(setting[key], f'{where}.{key}')}" for key in sorted(setting))


def combinations(grid: dict) -> list[dict]:
    """Every combination of a grid's values, in the grid's order (the first key varies slowest)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def label(values: dict) -> str:
    """``{"lr": 0.01, "gamma": 0.1}`` -> ``gamma=0.1, lr=0.01`` (messages and legends)."""
    return ", ".join(f"{key}={value_text(values[key], key)}" for key in sorted(values))


def method_net(spec: dict):
    """The net a method starts from or clusters the embedding of (None: raw data, or its own)."""
    if spec.get("net") is not None:
        return spec["net"]
    return feature_net(spec["features"]) if "features" in spec else None


def feature_net(space: str):
    """The net a feature space names: None for raw, 'ae' for 'ae' and 'umap-ae'."""
    return None if space == "raw" else space.removeprefix(UMAP_PREFIX)


class Sweep:
    """The config's nets and methods with every grid expanded.

    ``nets`` and ``methods`` replace the config's (a swept entry by its settings); ``settings`` maps
    each swept method's setting id to ``(method, {key: value})``; ``net_settings`` each swept net's
    setting to ``(net, {param: value})``; ``umap_spaces`` each UMAP space of a grid to ``(net,
    {setting: value})``; ``swept`` lists the swept methods (a grid of their own, or a swept net) and
    ``paper`` gives each its ``paper_setting`` ({} when not given).
    """

    def __init__(self, methods: dict, nets: dict):
        self.net_settings = {}
        self.nets = {}
        for net, spec in nets.items():
            if "grid" not in spec:
                self.nets[net] = spec
                continue
            base = {key: value for key, value in spec.items() if key != "grid"}
            for combination in combinations(spec["grid"]):
                name = f"{net}{SEPARATOR}{setting_id(combination, f'nets.{net}.grid')}"
                self._check_length(name, f"nets.{net}.grid")
                self.nets[name] = {**base, **combination}
                self.net_settings[name] = (net, combination)
        self.swept_nets = {base for base, _ in self.net_settings.values()}
        self.settings, self.umap_spaces, self.paper, self.methods, self.swept = {}, {}, {}, {}, []
        for method, spec in methods.items():
            if "grid" not in spec and method_net(spec) not in self.swept_nets:
                if "paper_setting" in spec:
                    raise SweepError(f"methods.{method}.paper_setting: {method} has no grid (and its net none)")
                self.methods[method] = spec
                continue
            self.swept.append(method)
            self.paper[method] = dict(spec.get("paper_setting", {}))
            for name, setting in self._expand(method, spec):
                if name in methods:
                    raise SweepError(f"methods.{method}.grid: its setting {name!r} has the id of another method; "
                                     "rename that method")
                self.methods[name] = setting["spec"]
                self.settings[name] = (method, setting["values"])

    @staticmethod
    def _check_length(name: str, where: str) -> None:
        if len(name) > MAX_ID:
            raise SweepError(f"{where}: the id {name[:60]}… of one setting is {len(name)} characters, over {MAX_ID}; "
                             "shorten the ids or sweep fewer parameters at once")

    def _expand(self, method: str, spec: dict):
        where = f"methods.{method}.grid"
        grid = dict(spec.get("grid", {}))
        for key in grid:
            head, dot, tail = key.partition(".")
            if dot and head != UMAP:
                raise SweepError(f"{where}: {key!r}: sweep a net's settings under nets.{head}.grid, not in a "
                                 "method's grid")
            if not KEY.match(tail if dot else key):
                raise SweepError(f"{where}: {key!r} is not a parameter name")
        space = spec.get("features", "raw" if spec.get("net") is None else spec["net"])
        umap_keys = [key for key in grid if key.startswith(f"{UMAP}.")]
        if umap_keys and not space.startswith(UMAP_PREFIX):
            raise SweepError(f"{where}: {', '.join(umap_keys)}: {method} clusters {space!r}, not a UMAP space "
                             f"({UMAP_PREFIX}<net>)")
        net = method_net(spec)
        net_choices = ([(name, combo) for name, (base, combo) in self.net_settings.items() if base == net]
                       if net in self.swept_nets else [(net, {})])
        swept = [*(f"{net}.{key}" for key in net_choices[0][1]), *grid]
        unknown = sorted(set(spec.get("paper_setting", {})) - set(swept))
        if unknown:
            raise SweepError(f"methods.{method}.paper_setting: {', '.join(unknown)} not swept (swept: "
                             f"{', '.join(swept)})")
        base = {key: value for key, value in spec.items() if key not in ("grid", "paper_setting")}
        for net_name, net_combo in net_choices:
            for combination in combinations(grid):
                values = {**{f"{net}.{key}": value for key, value in net_combo.items()}, **combination}
                name = f"{method}{SEPARATOR}{setting_id(values, where)}"
                self._check_length(name, where)
                params = {key: value for key, value in combination.items() if "." not in key}
                umap = {key.partition(".")[2]: value for key, value in combination.items() if "." in key}
                setting = dict(base)
                if params or "params" in base:
                    setting["params"] = {**base.get("params", {}), **params}
                if "net" in base and net_combo:
                    setting["net"] = net_name
                if "features" in base:
                    setting["features"] = self._space(base["features"], net_name, umap, where)
                yield name, {"spec": setting, "values": values}

    def _space(self, space: str, net: str, umap: dict, where: str) -> str:
        """The feature space a setting clusters: its net's embedding, or UMAP of it at its settings."""
        if space == "raw":
            return space
        if not space.startswith(UMAP_PREFIX):
            return net
        name = f"{UMAP_PREFIX}{net}"
        if umap:
            name = f"{name}{SEPARATOR}{setting_id(umap, f'{where}.{UMAP}')}"
            self.umap_spaces[name] = (net, umap)
        return name

    def method_of(self, name: str) -> str:
        """The method a run's method id belongs to: the swept method of a setting, else the id itself."""
        return self.settings[name][0] if name in self.settings else name

    def settings_of(self, method: str) -> list[str]:
        """A swept method's setting ids, in grid order."""
        return [name for name, (base, _) in self.settings.items() if base == method]

    def space_net(self, space: str):
        """The net behind a feature space (None for raw), UMAP spaces of a grid included."""
        if space in self.umap_spaces:
            return self.umap_spaces[space][0]
        return feature_net(space)
