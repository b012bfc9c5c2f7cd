"""Grids expanded into settings (deepclust.sweeps): readable, file-system safe ids, one method (and
net, and UMAP space) per combination, a setting's spec independent of the rest of its grid, and the
grids that cannot be expanded refused with the key named."""

import copy
import re

import pytest

from deepclust import sweeps

SAFE = re.compile(r"^[A-Za-z0-9._-]+$")  # POSIX's portable file name characters


def config():
    methods = {
        "dec": {"algorithm": "dec", "net": "ae", "params": {"lr": 0.1, "tol": 0.001},
                "grid": {"lr": [0.1, 0.01], "update_interval": [30, 140]}, "paper_setting": {"lr": 0.01}},
        "kmeans-ae": {"algorithm": "kmeans", "features": "ae", "params": {}},
        "n2d": {"algorithm": "gmm", "features": "umap-ae", "params": {}, "grid": {"umap.n_neighbors": [10, 20]}},
        "kmeans-raw": {"algorithm": "kmeans", "features": "raw", "params": {}},
    }
    nets = {"ae": {"epochs": 30, "batch_size": 64}, "vae": {"kind": "vae"}}
    return methods, nets


@pytest.mark.parametrize("setting, expected", [
    ({"update_interval": 140, "lr": 0.01}, "lr-0.01--update_interval-140"),
    ({"lr": 1e-05}, "lr-1e-05"),
    ({"lr": 1e20}, "lr-1e20"),
    ({"gamma": 1.0}, "gamma-1.0"),
    ({"hidden_dims": [500, 500, 2000]}, "hidden_dims-500_500_2000"),
    ({"optimizer": "sgd", "normalize": True, "n_components": None}, "n_components-null--normalize-true--optimizer-sgd"),
    ({"lambda_": -0.5}, "lambda_--0.5"),
])
def test_setting_ids_are_readable_and_file_system_safe(setting, expected):
    name = sweeps.setting_id(setting)
    assert name == expected and SAFE.match(name)


@pytest.mark.parametrize("value", ["a/b", "x y", "", {"a": 1}, [[1, 2]], []])
def test_a_value_that_cannot_name_a_folder_is_refused(value):
    with pytest.raises(sweeps.SweepError, match=r"methods\.dec\.grid\.lr: .* cannot name a folder"):
        sweeps.setting_id({"lr": value}, "methods.dec.grid")


def test_a_config_without_grid_is_left_as_it_is():
    methods, nets = config()
    del methods["dec"]["grid"], methods["dec"]["paper_setting"], methods["n2d"]["grid"]
    sweep = sweeps.Sweep(methods, nets)
    assert sweep.methods == methods and sweep.nets == nets and not sweep.settings and not sweep.swept
    assert all(sweep.methods[m] is methods[m] for m in methods)  # the config's own dicts: same params


def test_a_method_grid_runs_one_method_per_combination():
    methods, nets = config()
    sweep = sweeps.Sweep(methods, nets)
    dec = sweep.settings_of("dec")
    assert dec == ["dec--lr-0.1--update_interval-30", "dec--lr-0.1--update_interval-140",
                   "dec--lr-0.01--update_interval-30", "dec--lr-0.01--update_interval-140"]
    assert sweep.methods["dec--lr-0.01--update_interval-140"] == {
        "algorithm": "dec", "net": "ae", "params": {"lr": 0.01, "tol": 0.001, "update_interval": 140}}
    assert sweep.settings["dec--lr-0.01--update_interval-30"] == ("dec", {"lr": 0.01, "update_interval": 30})
    assert "dec" not in sweep.methods and sweep.swept == ["dec", "n2d"] and sweep.paper["dec"] == {"lr": 0.01}
    assert sweep.method_of("dec--lr-0.1--update_interval-30") == "dec" and sweep.method_of("kmeans-raw") == "kmeans-raw"
    assert sweep.nets == nets  # method grids share the pretrained net


def test_adding_a_value_changes_no_other_settings_spec():
    methods, nets = config()
    before = sweeps.Sweep(copy.deepcopy(methods), nets).methods
    methods["dec"]["grid"]["lr"].append(0.001)
    after = sweeps.Sweep(methods, nets).methods
    assert {m: after[m] for m in before} == before
    assert set(after) - set(before) == {"dec--lr-0.001--update_interval-30", "dec--lr-0.001--update_interval-140"}


def test_a_net_grid_pretrains_per_combination_and_every_method_on_it_runs_on_each():
    methods, nets = config()
    nets["ae"]["grid"] = {"epochs": [10, 30]}
    sweep = sweeps.Sweep(methods, nets)
    assert set(sweep.nets) == {"ae--epochs-10", "ae--epochs-30", "vae"}
    assert sweep.nets["ae--epochs-10"] == {"epochs": 10, "batch_size": 64}
    assert sweep.net_settings["ae--epochs-30"] == ("ae", {"epochs": 30}) and sweep.swept_nets == {"ae"}
    assert sweep.methods["dec--ae.epochs-10--lr-0.1--update_interval-30"]["net"] == "ae--epochs-10"
    assert len(sweep.settings_of("dec")) == 8
    assert sweep.methods["kmeans-ae--ae.epochs-30"]["features"] == "ae--epochs-30"  # swept through its net
    assert sweep.settings["kmeans-ae--ae.epochs-30"] == ("kmeans-ae", {"ae.epochs": 30})
    space = sweep.methods["n2d--ae.epochs-10--umap.n_neighbors-20"]["features"]
    assert space == "umap-ae--epochs-10--n_neighbors-20"
    assert sweep.umap_spaces[space] == ("ae--epochs-10", {"n_neighbors": 20}) and sweep.space_net(space) == "ae--epochs-10"
    assert sweep.methods["kmeans-raw"] is methods["kmeans-raw"]


def test_umap_settings_sweep_a_space_per_setting():
    methods, nets = config()
    sweep = sweeps.Sweep(methods, nets)
    assert sweep.methods["n2d--umap.n_neighbors-10"]["features"] == "umap-ae--n_neighbors-10"
    assert sweep.space_net("umap-ae--n_neighbors-10") == "ae" and sweep.space_net("umap-ae") == "ae"
    assert sweep.space_net("raw") is None


@pytest.mark.parametrize("change, message", [
    (lambda m, n: m["dec"]["grid"].update({"ae.epochs": [1]}), r"methods\.dec\.grid: 'ae\.epochs': sweep a net's "
                                                                 r"settings under nets\.ae\.grid"),
    (lambda m, n: m["kmeans-raw"].update(grid={"umap.n_neighbors": [5]}), r"methods\.kmeans-raw\.grid: "
                                                                          r"umap\.n_neighbors: .* not a UMAP space"),
    (lambda m, n: m["dec"].update(paper_setting={"momentum": 0.9}), r"methods\.dec\.paper_setting: momentum not swept"),
    (lambda m, n: m["kmeans-raw"].update(paper_setting={"n_init": 10}), r"methods\.kmeans-raw\.paper_setting: "
                                                                        r"kmeans-raw has no grid"),
    (lambda m, n: m.update({"dec--lr-0.1--update_interval-30": {"algorithm": "dec", "net": "ae"}}),
     r"methods\.dec\.grid: its setting 'dec--lr-0\.1--update_interval-30' has the id of another method"),
    (lambda m, n: m["dec"]["grid"].update({"x" * 190: [1]}), r"methods\.dec\.grid: the id .* over 200"),
    (lambda m, n: m["dec"]["grid"].update({"lr": ["0.1/2"]}), r"methods\.dec\.grid\.lr: '0\.1/2' cannot name"),
])
def test_grids_that_cannot_be_expanded_are_refused_naming_the_key(change, message):
    methods, nets = config()
    change(methods, nets)
    with pytest.raises(sweeps.SweepError, match=message):
        sweeps.Sweep(methods, nets)


def test_combinations_vary_the_last_key_fastest():
    assert sweeps.combinations({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert sweeps.label({"lr": 0.01, "gamma": 0.1}) == "gamma=0.1, lr=0.01"
