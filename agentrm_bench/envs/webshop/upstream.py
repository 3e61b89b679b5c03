"""Upstream files of the webshop task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTRM_PRM, DataFile, TaskData

_AGENTGYM_WEBSHOP = (
    "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
    "agentenv-webshop/webshop/data/"
)
_WEBSHOP_BASELINE = (
    "https://raw.githubusercontent.com/princeton-nlp/WebShop/64fa2a5c15c7daa698b9ac93f5bb5437b634c9bd/"
    "baseline_models/data/"
)
_GDRIVE = "https://drive.usercontent.google.com/download?export=download&confirm=t&id="


# WebShop (princeton-nlp/WebShop, MIT): the 1,000-product shop, its human instructions, ETO's test ids and
# WebShop's own goal-order list. See envs/webshop/PROVENANCE.md.
FILES = TaskData(
    "webshop",
    (
        DataFile(
            "data/items_shuffle_1000.json",
            _AGENTGYM_WEBSHOP + "items_shuffle_1000.json",
            sha256="30a4765c3a327af72d9a9a95a6b2486d516f0fa1d3ecd83681901ce82a21b269",
        ),
        DataFile(
            "data/items_ins_v2_1000.json",
            _AGENTGYM_WEBSHOP + "items_ins_v2_1000.json",
            sha256="f88a36314a397b53b3d9c3fa5878e5f7b26d35019a51ec83fbedeca61a948f6f",
        ),
        DataFile(
            "data/items_human_ins.json",
            _WEBSHOP_BASELINE + "items_human_ins.json",
            sha256="cf78667548a71786e1d9049c24b802e48e1084ad4bb021cae56ce1f6d96954a3",
        ),
        DataFile(
            "baseline_models_data/human_goals.json",
            _WEBSHOP_BASELINE + "human_goals.json",
            sha256="b68746ed66cd31fdc5f70eb3f5831a46b38163563b57a66ddcab8fd60ee0cbdc",
        ),
        DataFile(
            "splits/eto/test_indices.json",
            "https://raw.githubusercontent.com/Yifan-Song793/ETO/a2fc5da38f8d00cfaf3f9b6370d586eebaf72904/"
            "eval_agent/data/webshop/test_indices.json",
            sha256="0e7fa2b9646a8800761a29fe9bdfff757235bdec7597e3211525230434e2ea66",
        ),
    ),
    "WebShop's small shop (items_shuffle_1000 / items_ins_v2_1000 via WooooDyy/AgentGym @ 3ef9235d, "
    "items_human_ins and human_goals via princeton-nlp/WebShop @ 64fa2a5c; MIT) and ETO's 200 test goal ids",
)


# The 1.18M-product catalogue (~5 GB), only on WebShop's Google Drive (setup.sh -d all); no checksum is
# known here. Fetched on its own: agentrm-bench data fetch webshop/full.
FULL = TaskData(
    "webshop/full",
    (
        DataFile("data/items_shuffle.json", _GDRIVE + "1A2whVgOO0euk5O13n2iYDM0bQRkkRduB"),
        DataFile("data/items_ins_v2.json", _GDRIVE + "1s2j6NgHljiZzQNL3veZaAiyW_qDEgBNi"),
    ),
    "WebShop's full catalogue: items_shuffle.json and items_ins_v2.json (princeton-nlp/WebShop setup.sh, MIT)",
    folder="webshop",
)


RM_PROMPTS = TaskData(
    "webshop/agentrm_prompts",
    (
        DataFile(
            "prm_webshop.txt",
            AGENTRM_PRM + "webshop.txt",
            sha256="0fffb72a01197765f4316f73b264d79e733b85fdd66a65eac4cae170355f1a29",
        ),
        DataFile(
            "prm_webshop_wo_turninfo.txt",
            AGENTRM_PRM + "webshop_wo_turninfo.txt",
            sha256="9ceeb3d8b24f894ed3996bf5273f44f4487306cabbb282e1db76f2266ab39bc7",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
