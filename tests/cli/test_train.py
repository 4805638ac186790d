"""``facedet train`` end to end on a synthetic WIDER root: SCRFD-0.5GF, a few steps, eval, resume."""

from __future__ import annotations

import csv

import torch

from facedet.cli import main
from facedet.data.synthetic import SyntheticConfig, write_synthetic_wider
from facedet.engine.checkpoint import load_checkpoint

SYN = dict(image_size=(96, 96), face_sizes=(16.0, 48.0), max_faces=3, empty_fraction=0.0)


def test_train_cli_trains_evaluates_and_resumes(tmp_path, capsys) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=8, **SYN), seed=0)
    write_synthetic_wider(tmp_path / "wider", "val", SyntheticConfig(num_images=3, **SYN), seed=1)
    out = tmp_path / "run"
    common = ["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--val", str(tmp_path / "wider"),
              "--out", str(out), "--no-progress"]
    overrides = ["data.input_size=64", "data.num_workers=0", "train.batch_size=3", "train.warmup_iters=2",
                 "eval.max_size=96"]
    assert main(common + overrides + ["train.epochs=1"]) == 0
    ck = load_checkpoint(out / "last.pt")
    assert (ck["epoch"], ck["step"], ck["model_name"]) == (1, 2, "scrfd_500m")
    assert ck["config"]["data"]["input_size"] == 64 and (out / "config.yaml").is_file()
    rows = list(csv.DictReader(open(out / "epochs.csv")))
    assert len(rows) == 1 and {"ap_easy", "ap_medium", "ap_hard", "loss_cls", "loss_bbox"} <= rows[0].keys()
    assert (out / "best.pt").is_file()  # the first evaluation is always a new best
    first = load_checkpoint(out / "last.pt")["model"]

    assert main(common + ["--resume", "train.epochs=2"]) == 0  # overrides after options, config.yaml reused
    ck = load_checkpoint(out / "last.pt")
    assert (ck["epoch"], ck["step"]) == (2, 4) and ck["config"]["data"]["input_size"] == 64
    assert any(not torch.equal(ck["model"][k], v) for k, v in first.items())  # the second epoch trained
    assert len(list(csv.DictReader(open(out / "epochs.csv")))) == 2
    capsys.readouterr()


def test_train_cli_errors(tmp_path, capsys, monkeypatch) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=2, **SYN), seed=0)
    base = ["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--out", str(tmp_path / "run")]
    assert main(base + ["train.lrr=0.1"]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert main(base + ["--resume"]) == 3
    assert "last.pt" in capsys.readouterr().err
    assert main(["train", "scrfd_500m", "--data", str(tmp_path / "missing")]) == 3
    capsys.readouterr()

    class Other(torch.nn.Module):
        family = "nosuchfamily"

    monkeypatch.setattr("facedet.zoo.build_model", lambda name, **kw: Other())
    assert main(base) == 2
    assert "unknown detector family 'nosuchfamily'" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(base + ["--recipe", "paper", "--iterations", "5"]) == 2  # SCRFD's recipe is the defaults
    assert "SCRFD's released schedule is the default config" in capsys.readouterr().err
    assert main(base + ["--iterations", "5"]) == 2
    assert "--recipe paper" in capsys.readouterr().err


def test_train_cli_extd_paper_recipe_scaled(tmp_path, capsys) -> None:
    """EXTD through the same engine: the paper schedule scaled to 4 steps of 2 images, MultiBox losses,
    EXTD augmentation, and the evaluation row written when ``max_steps`` stops inside an epoch."""
    syn = dict(SYN, image_size=(160, 160), face_sizes=(20.0, 60.0))
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=10, **syn), seed=0)
    write_synthetic_wider(tmp_path / "wider", "val", SyntheticConfig(num_images=2, **syn), seed=1)
    out = tmp_path / "run"
    assert main(["train", "extd_fpn_32", "--data", str(tmp_path / "wider"), "--val", str(tmp_path / "wider"),
                 "--out", str(out), "--no-progress", "--recipe", "paper", "--iterations", "4", "--batch", "2",
                 "data.input_size=128", "data.num_workers=0", "eval.max_size=160", "eval.backend=onnx"]) == 0
    ck = load_checkpoint(out / "last.pt")
    assert ck["step"] == 4 and ck["model_name"] == "extd_fpn_32"
    train = ck["config"]["train"]
    assert train["lr"] == 1e-3 * 2 / 16 and train["batch_size"] == 2 and train["max_steps"] == 4
    assert train["milestone_iters"] == [2, 3]  # 120k / 180k of 240k -> iterations 2 and 3 of 4
    rows = list(csv.DictReader(open(out / "epochs.csv")))
    assert len(rows) == 1 and rows[0]["step"] == "4" and rows[0]["ap_hard"] != "" and "loss_box" in rows[0]
    # the ONNX Runtime evaluation (eval.backend=onnx) scores like the torch one
    from facedet import zoo
    from facedet.engine.wider_eval import WiderValEvaluator

    model = zoo.build_model("extd_fpn_32")
    model.load_state_dict(ck["model"])
    torch_ap = WiderValEvaluator(tmp_path / "wider", max_size=160)(model.eval())
    assert abs(torch_ap["ap_hard"] - float(rows[0]["ap_hard"])) < 1e-3
    capsys.readouterr()


def test_train_cli_group_sampling_sampler_setting(tmp_path, capsys) -> None:
    """Group Sampling through the same engine, with a Table-9 sampler picked by ``loss.sampling``."""
    syn = dict(SYN, image_size=(128, 128))
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=4, **syn), seed=0)
    out = tmp_path / "run"
    assert main(["train", "gs_fpn_finest_r18", "--data", str(tmp_path / "wider"), "--out", str(out),
                 "--no-progress", "--recipe", "paper", "--iterations", "2", "--batch", "2", "loss.sampling=ohem",
                 "loss.num_samples=32", "data.input_size=96", "data.num_workers=0",
                 "train.log_interval=1"]) == 0
    ck = load_checkpoint(out / "last.pt")
    assert ck["step"] == 2 and ck["config"]["loss"]["sampling"] == "ohem"
    assert ck["config"]["train"]["weight_decay"] == 5e-5 and ck["config"]["train"]["milestone_iters"] == [1, 2]
    rows = list(csv.DictReader(open(out / "train.csv")))
    assert rows and {"loss_cls", "loss_reg"} <= rows[0].keys()
    capsys.readouterr()


def test_train_cli_distils_from_a_teacher_file(tmp_path, capsys) -> None:
    """``--teacher FILE``: an SCRFD student learns from a (here random) SCRFD teacher checkpoint through the
    dense terms; an EXTD student, whose priors differ, through the teacher's detections; the teacher is
    named in config.yaml, so ``--resume`` keeps it."""
    from facedet import zoo

    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=4, **SYN), seed=0)
    teacher = tmp_path / "scrfd_500m.pt"
    torch.save(zoo.build_model("scrfd_500m").state_dict(), teacher)
    common = ["--data", str(tmp_path / "wider"), "--no-progress", "--teacher", str(teacher),
              "data.num_workers=0", "train.batch_size=2", "train.warmup_iters=1", "train.log_interval=1"]
    out = tmp_path / "dense"
    assert main(["train", "scrfd_500m", "--out", str(out), *common, "data.input_size=64", "train.epochs=1"]) == 0
    assert "taught by" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "train.csv")))
    assert rows and float(rows[0]["loss_kd_cls"]) > 0 and "loss_kd_box" in rows[0]
    assert load_checkpoint(out / "last.pt")["config"]["distill"]["teacher"] == str(teacher)
    assert main(["train", "scrfd_500m", "--out", str(out), "--resume", "--data", str(tmp_path / "wider"),
                 "--no-progress", "train.epochs=2"]) == 0
    assert "taught by" in capsys.readouterr().out  # the resumed run found its teacher in config.yaml

    out = tmp_path / "pseudo"
    syn_extd = ["data.input_size=128", "train.max_steps=1", "distill.pseudo_thr=0.0"]
    assert main(["train", "extd_fpn_32", "--out", str(out), *common, *syn_extd]) == 0
    rows = list(csv.DictReader(open(out / "train.csv")))
    assert rows and "loss_kd_cls" not in rows[0]  # pseudo mode: EXTD's own losses on the extended targets
    assert main(["train", "scrfd_500m", "--out", str(tmp_path / "x"), "--data", str(tmp_path / "wider"),
                 "--teacher", str(tmp_path / "missing.onnx")]) == 3
    assert "neither a zoo model nor an existing file" in capsys.readouterr().err


def test_train_cli_model_init_starts_from_the_file(tmp_path, capsys) -> None:
    """``model.init=FILE`` loads the weights before training: at lr 0 the convolutions stay the file's."""
    from facedet.zoo import build_model

    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=4, **SYN), seed=0)
    torch.manual_seed(123)  # differs from the run's seed, so a fresh init would not match
    start = build_model("scrfd_500m").state_dict()
    torch.save(start, tmp_path / "start.pt")
    out = tmp_path / "run"
    assert main(["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--out", str(out), "--no-progress",
                 f"model.init={tmp_path / 'start.pt'}", "data.input_size=64", "data.num_workers=0",
                 "train.batch_size=2", "train.epochs=1", "train.lr=0", "train.weight_decay=0"]) == 0
    trained = load_checkpoint(out / "last.pt")["model"]
    convs = [k for k, v in start.items() if k.endswith("weight") and v.dim() == 4]
    assert convs and all(torch.equal(trained[k], start[k]) for k in convs)
    assert load_checkpoint(out / "last.pt")["config"]["model"]["init"] == str(tmp_path / "start.pt")
    capsys.readouterr()


def test_resume_drops_rows_logged_after_the_checkpoint_and_refuses_state_changes(tmp_path, capsys) -> None:
    write_synthetic_wider(tmp_path / "wider", "train", SyntheticConfig(num_images=6, **SYN), seed=0)
    out = tmp_path / "run"
    common = ["train", "scrfd_500m", "--data", str(tmp_path / "wider"), "--out", str(out), "--no-progress"]
    assert main(common + ["data.input_size=64", "data.num_workers=0", "train.batch_size=3", "train.epochs=1",
                          "train.log_interval=1"]) == 0
    assert [int(r["step"]) for r in csv.DictReader(open(out / "train.csv"))] == [1]  # 1 step per epoch
    with open(out / "train.csv", "a") as fh:  # a kill after logging steps 2-3 but before their checkpoint
        fh.write("2,1.5,0.01\n3,2.0,0.01\n")
    assert main(common + ["--resume", "train.lr=0.5"]) == 2
    err = capsys.readouterr().err
    assert "cannot change train.lr: 0.01 -> 0.5" in err and "model.init=" in err
    assert main(common + ["--resume", "train.epochs=2"]) == 0
    assert "facedet: resume: train.epochs: 1 -> 2" in capsys.readouterr().err
    steps = [int(r["step"]) for r in csv.DictReader(open(out / "train.csv"))]
    assert steps == [1, 2]  # each step once: the fake 2 and 3 were dropped, the real step 2 logged
    assert main(common + ["--resume"]) == 0
    assert "nothing left to train" in capsys.readouterr().err
    write_synthetic_wider(tmp_path / "other", "train", SyntheticConfig(num_images=4, **SYN), seed=5)
    assert main(["train", "scrfd_500m", "--data", str(tmp_path / "other"), "--out", str(out), "--no-progress",
                 "--resume"]) == 2
    assert "other --data than the run was started with" in capsys.readouterr().err


def test_csv_logger_rewind_is_atomic_and_exact(tmp_path) -> None:
    from facedet.engine.logging import CSVLogger

    log = CSVLogger(tmp_path / "x.csv")
    for s in range(1, 7):
        log.log({"step": s, "loss": 1.0 / s})
    assert CSVLogger(tmp_path / "x.csv").rewind(4) == 2
    assert [r["step"] for r in csv.DictReader(open(tmp_path / "x.csv"))] == ["1", "2", "3", "4"]
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]
