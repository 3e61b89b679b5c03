"""The data layer: upstream files a task needs, declared here, fetched and verified on demand.

Upstream annotations and game files are never committed to this repository (their licences and sizes
vary). Each task declares what it needs -- where upstream publishes it and, where known, its sha256 --
and ``agentrm-bench data fetch <task>`` puts it under ``$AGENTRM_BENCH_DATA/<task>/``. Facts such as a
maze grid or a level list live in code instead, so that a task runs without its annotations where it
can.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .envs.alfworld import games as alfworld_games

ENV_VAR = "AGENTRM_BENCH_DATA"
_AGENTRM_PRM = "https://raw.githubusercontent.com/thunlp/AgentRM/5bad059b4e193a9264d7ed25f5083a30ce653421/eval_agent/prompt/prm_instruction/"
AGENTBOARD_DATA = "https://huggingface.co/datasets/hkust-nlp/agentboard/resolve/main/data.tar.gz"
_AGENTGYM_WEBSHOP = (
    "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
    "agentenv-webshop/webshop/data/"
)
_WEBSHOP_BASELINE = (
    "https://raw.githubusercontent.com/princeton-nlp/WebShop/64fa2a5c15c7daa698b9ac93f5bb5437b634c9bd/"
    "baseline_models/data/"
)
_GDRIVE = "https://drive.usercontent.google.com/download?export=download&confirm=t&id="


class DataMissingError(FileNotFoundError):
    """A task's upstream file is absent; the message says how to fetch it."""


class DataIntegrityError(RuntimeError):
    """A fetched file does not have the declared sha256."""


@dataclass(frozen=True)
class DataFile:
    """One upstream file: its place under the task folder and where it comes from."""

    path: str
    url: str
    sha256: str | None = None
    member: str | None = None  # the file's path inside an archive at ``url``; None if ``url`` is the file


@dataclass(frozen=True)
class TaskData:
    task: str
    files: tuple[DataFile, ...]
    source: str
    folder: str | None = None  # the folder under the data root; tasks sharing upstream material share one
    required: bool = False  # the task cannot run without these files (else it runs, reporting less)


def task_folder(task: str, root: Path | None = None) -> Path:
    """Where ``task``'s files live: ``<root>/<folder>``, the folder being the task's name unless declared."""
    spec = CATALOGUE.get(task)
    return (root or data_root()) / ((spec.folder if spec else None) or task)


CATALOGUE: dict[str, TaskData] = {
    "babyai": TaskData(
        "babyai",
        (
            DataFile(
                "test.jsonl",
                AGENTBOARD_DATA,
                sha256="d63d3dec56a623ea1c381a0815b31d6cfc3f707c5693c6d66e49b47c053c25bc",
                member="data/babyai/test.jsonl",
            ),
        ),
        "AgentBoard test set (hkust-nlp/agentboard, GPL-2.0): goals, subgoal patterns, first observations",
    ),
    "sciworld": TaskData(
        "sciworld",
        (
            DataFile(
                "agentboard/test.jsonl",
                AGENTBOARD_DATA,
                sha256="ed58212de963cd3c3479e87a25c5d91e2d2decd4bbc3a39bb75283892d186ce1",
                member="data/scienceworld/test.jsonl",
            ),
        )
        + tuple(
            DataFile(
                f"eto/{name}",
                "https://raw.githubusercontent.com/Yifan-Song793/ETO/a2fc5da38f8d00cfaf3f9b6370d586eebaf72904/"
                f"eval_agent/data/sciworld/{name}",
                sha256=digest,
            )
            for name, digest in (
                ("test_indices.json", "dfe4ab263824f04a49cf977b8f6d65af516ce13b8cfbef5736a97ed993da7152"),
                ("dev_indices.json", "78084ef4393d2da87b21507451821e431daa1a70ab1a486fd1a964ab2404d741"),
                ("max_steps.json", "035592f47fbe1309b6ed1a260b392a50d94d3163de951508a74e985d93048f73"),
            )
        ),
        "AgentBoard's 90 ScienceWorld problems with goals and subgoal patterns (hkust-nlp/agentboard, GPL-2.0); "
        "ETO's test/dev variation lists and step limits (Yifan-Song793/ETO), which the code also holds as facts",
    ),
    "tool-query": TaskData(
        "tool-query",
        tuple(
            DataFile(
                f"agentgym_toolusage/{name}.jsonl",
                "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
                f"agentenv-tool/Toolusage/data/{name}.jsonl",
                sha256=digest,
            )
            for name, digest in (
                ("academia", "94ab8b4cb346289e8249b8de940e93c49817d9894930d624b82808233c33a1f5"),
                ("weather", "3dd46d00e4bbc3dc0bf6d6ce4de74609c24f3b56ef4f5b7b89c76d19c0f7f1fc"),
                ("movie", "3b8a34540e9aaa8b5e8b8640512f350e7cabed77a7aa181b12aa0f7ef549c16a"),
            )
        )
        + tuple(
            # AgentBoard's DBLP subset (networkx pickles); only in the HF archive, checksums not yet known.
            DataFile(f"academia/raw/{name}.pkl", AGENTBOARD_DATA, member=f"data/tool-query/academia/raw/{name}.pkl")
            for name in ("paper_net", "author_net", "title2id_dict", "author2id_dict")
            + ("id2title_dict", "id2author_dict")
        ),
        "Tool-Query rows (AgentGym agentenv-tool, MIT; academia rows from AgentBoard) and AgentBoard's DBLP graph "
        "(hkust-nlp/agentboard data.tar.gz, GPL-2.0). Weather/movie API responses are not downloadable: "
        "record them with `python -m agentrm_bench.envs.tool_query.record <toolset>`",
        folder="tools",
    ),
    "tool-operation": TaskData(
        "tool-operation",
        (
            DataFile(
                "agentgym_toolusage/sheet.jsonl",
                "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
                "agentenv-tool/Toolusage/data/sheet.jsonl",
                sha256="3c5b4cb195b61fb2ea062f3a240a6c9fdd3dcf9a0b1a4effdaa22f18b5c50456",
            ),
            DataFile(
                "agentgym_toolusage/todo.jsonl",
                "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
                "agentenv-tool/Toolusage/data/todo.jsonl",
                sha256="8375b721746a771c4407c8d4b601e6788b93bbb043e657003c888cbec7fac097",
            ),
            DataFile(
                "todo/projects.agentgym.json",
                "https://raw.githubusercontent.com/WooooDyy/AgentGym/3ef9235d23e68e7c2920c5422ad957dc8ced5c6c/"
                "agentenv-tool/Toolusage/toolusage/utils/todo/projects.json",
                sha256="a4ed1441070055b9e426a568c0b61955cbf3badcab51aaf8b6590f2f471c73b4",
            ),
            DataFile(
                "sheet/test_sheet_for_copy.xlsx",
                "https://raw.githubusercontent.com/hkust-nlp/AgentBoard/bb7255e2daf1989069a186dad9e53f70680961db/"
                "agentboard/utils/sheet/Test%20Sheet-For%20Copy.xlsx",
                sha256="c3b6747a954e936acc394b71f0bdf7ae73afd43247799cab770def8c43c0f42d",
            ),
        ),
        "Tool-Operation rows and todo seed (AgentGym agentenv-tool, MIT; sheet rows from AgentBoard) and "
        "AgentBoard's reference workbook (hkust-nlp/AgentBoard, Apache-2.0)",
        folder="tools",
        required=True,
    ),
    "jericho": TaskData(
        "jericho",
        tuple(
            DataFile(
                f"games/{name}",
                "https://raw.githubusercontent.com/BYU-PCCL/z-machine-games/bfd7544aa1f50549fc327bd4eb3bc8144bfd80ea/"
                f"jericho-game-suite/{name}",
                sha256=digest,
            )
            for name, digest in (
                ("905.z5", "0f41ff7811668e236060b399ced1cd0481c1bb624a8876fc7e16dc58816f1ecb"),
                ("acorncourt.z5", "7b13c904bf7608fa0de902ce7ecd5fcd0e026f293fc67baa87b99a35a3190c9e"),
                ("afflicted.z8", "5c3da938c7abde6a8a79d05c3b5e56bbfc5e905be65ef12ab0d6e78619527ca4"),
                ("balances.z5", "10e717578f85200c6aadc8149d95e43f7b6c09fb473770d309a0d6afe3b29538"),
                ("dragon.z5", "9f7d54f7c18ce07ec1c6eab7d5c2176f3562d46ffd2357f6d6cfc48a6fa683a8"),
                ("jewel.z5", "59f600b6e55e7cf0b55edd8145fa80202b0b85d3c1eef9989796926962f21bd2"),
                ("library.z5", "b3665eaf5e30520355a1f07657ffbd69e967ecb53942f86913d044e65fa30e11"),
                ("omniquest.z5", "1c905ffce496afe702c04453c4abd0ab01e272afd138b87c7e0ebaed4d8accd0"),
                ("reverb.z5", "ed1b0f4d878c97d3a13c825313020b9c304e1a1db9e1b6ec0165ccf49a657c1f"),
                ("snacktime.z8", "04a681d20ce2701762eeb5adc1aace13d389d2319faaf9c497b9d9ca0eebff76"),
                ("zenon.z5", "cebb8710f287c9ae70cdbda0e04eb7b81f1740f041de0a0964cd8e28996ad439"),
                ("zork1.z5", "0ae5ac229e79094ff368b6669356444af0f35e21d862a1baaa546989085c15fd"),
                ("zork2.z5", "abf145d22371f825f13388587d92632bcde90582698f774b896b123a90e1fb1e"),
                ("zork3.z5", "dce7e6f757fb8379dea9da9c13cdda5412ba03fa9b70d79fb6b8c7faf5970692"),
                ("detective.z5", "f6b0b9b5f4ff8890ab481b11e63ea18350b43640c88a9b8c23d6a2b269f9a040"),
                ("night.z5", "134081ad18cf4c0fd643af8e7cd9a620955e45104ea4e1a96f70bb79745617d4"),
                ("pentari.z5", "bbc8b30fa17089166698ed22740ab15be179babebec5252d07eb5260f1aa1316"),
                ("weapon.z5", "eac87c5a94ef68b443a163015155589f9df50163291e47fe4263309303509030"),
                ("huntdark.z5", "6197d094b3dff1118a1e130bb59deacb30c644610980881f8e66b854d6e2ccef"),
                ("loose.z5", "a28b241778534c4d84749fb2192ba635269daaff7c20e8ed0fd30d85cfe4da96"),
            )
        ),
        "AgentBoard's 20 Jericho story files (BYU-PCCL/z-machine-games jericho-game-suite; no licence file, each "
        "game keeps its authors' terms: local evaluation only). AgentBoard's goal texts "
        "(agentboard_jericho_goals.json, see envs/jericho/PROVENANCE.md) are derived, not fetched",
        required=True,
    ),
    "pddl": TaskData(
        "pddl",
        (
            # Byte copy of a third-party vendor copy (SoCaiIsMe/GMemory); not yet byte-verified against the
            # HF archive member, which the dataset page lists as 20.1 kB (this file: 21,242 bytes).
            DataFile(
                "test.jsonl",
                AGENTBOARD_DATA,
                sha256="555295d7e207b89ffad10f9c7340337a6a208c5cbd34e6d0707e719f3d0bc23e",
                member="data/pddl/test.jsonl",
            ),
            *(
                DataFile(
                    f"pddl/{name}",
                    "https://raw.githubusercontent.com/hkust-nlp/AgentBoard/bb7255e2daf1989069a186dad9e53f70680961db/"
                    f"agentboard/environment/pddl_env/pddlgym/pddl/{name}",
                    sha256=digest,
                )
                for name, digest in (
                    ("gripper.pddl", "7c791d3e9db3e8ef6fe7fb3dbf670c23997e8aab7c5bcc1c2c97014d2e349034"),
                    ("gripper/prob01.pddl", "968130f7f9f914a4e12c81d31af6de8d223881b5d219a672ac2c28a942256d14"),
                    ("gripper/prob02.pddl", "434736130b325b24b189ac103391bc16d0c16fc65ce0fac57046c9f8917c4ef0"),
                    ("gripper/prob03.pddl", "8b2c4e1f36a0e61e215b9c83d6ca62ef9208339c79654e11337431e6e5bcafc3"),
                    ("gripper/prob04.pddl", "0b65100072f50403c56c60a2693a85b7a069d021595aa68c0621cef9dd4f4dba"),
                    ("gripper/prob05.pddl", "82bc711ead36c2f826e098b808161401a04ea105cd1e2c3484ac668584994822"),
                    ("gripper/prob06.pddl", "3841b67c135d52dfb6a9065a97c57d390d8789c6fc1819908f9d8c73fd374485"),
                    ("gripper/prob07.pddl", "1762cb13a03375fb0a0ab61bee3fdf798f9c99a65a803bf0334e79ae66be54b1"),
                    ("gripper/prob08.pddl", "273b978ce8259028c871a532f71f2eab9d73d4f2f5aa16bdec843ab6802fbb0c"),
                    ("gripper/prob09.pddl", "ca573ba1fac559c933a7a343fa152b51d65189c98107561e3c37d2fedca93d4d"),
                    ("gripper/prob10.pddl", "f30d5735e77d7f046a5436224e5e3c5ff248c9bf2c0e9f95f74ca64c9a9e2d28"),
                    ("gripper/prob11.pddl", "fcb09d87de69188441bc669551c1ca2028d5800ac05ef49ad671b1f360f76548"),
                    ("gripper/prob12.pddl", "39473160ab98e7555541f1a8589be1f600ee50bc99741885bf594f2a7c69b460"),
                    ("gripper/prob13.pddl", "cbff246470bb3d719ae46133413aaaed7a1e2879968448bf4c4d86d778cb58d8"),
                    ("gripper/prob14.pddl", "8715f3f8dc4adb0a6fd4936a260e06071d652fe7213d8483f127b58d414a4275"),
                    ("gripper/prob15.pddl", "7d3284e44ace3759fe414d135dbc33d50afbad1633e70108391e3114ff80deb0"),
                    ("gripper/prob16.pddl", "21590b2215cc696950a5365cd731eb20214c26bd1810c6307dd7a67e660948bd"),
                    ("gripper/prob17.pddl", "9445f4d20cfc913113269514af257cec72e515c5fc7194297c30b80a1d9194dd"),
                    ("gripper/prob18.pddl", "a61ebf95c0faf38c0c4f45ae0330a4c8352e0bb85c94f82622561e81e3b8f097"),
                    ("gripper/prob19.pddl", "06ef84c87bd8a0d97a807450bee8c6e8a86103bc72970f2c4d92d9c47bfc947c"),
                    ("gripper/prob20.pddl", "6ffd2ac87f75431f2330c152104d8dce584e3a53d7e01cb2d92ba651a8009698"),
                    ("blockworld.pddl", "542cc4051f965a054a0563d3b4482c1bc3fb2b87d78fe012d1cfe0eaea08a6a8"),
                    ("blockworld/problem1.pddl", "4568e078b8fd1a9f3303de3785c6a24ce5de12a8644f7061b03f6def4a80c07e"),
                    ("blockworld/problem10.pddl", "fac86e3c7cfec658d0c144f2b8f14d5a29f8d8d7332706fc3ff3c8d84fe4f39f"),
                    ("blockworld/problem2.pddl", "6b7bd21453c84cbe66ce59107c027ef0ddc15473cb1f1a538c3184e5aaa56eb4"),
                    ("blockworld/problem3.pddl", "d86b9836219b6bb290344acac91d5b95efe1758126f150358ff334ad9749d715"),
                    ("blockworld/problem4.pddl", "dc96db073611b6e37ae246bf11573014984fda4ebc449b82abf48f9a1829fb6a"),
                    ("blockworld/problem5.pddl", "65d1f8790c5d6d6ee528c39c7108b8ab8be2111fd950f101aaa688a8be9a7ec9"),
                    ("blockworld/problem6.pddl", "3e911fe5bd6f98c227be2efea84004a504d8d36f09485c0fd259fd74c4028fd7"),
                    ("blockworld/problem7.pddl", "5ed87381dc49e44cd317f8f4d868dbc59a9411f9263018a9ab034f2581e0037d"),
                    ("blockworld/problem8.pddl", "9bf3b029ee55c9ad78719b1ddd3977e4e158cc2fab2f820bb1248585e42ff787"),
                    ("blockworld/problem9.pddl", "4a5752b138157493b5ca615a666c6ec1f59ffa0466d5f766104c583259837ca3"),
                    ("barman.pddl", "a525573b1229c1913efb8cb8e2fe5ca634fafd2c32b0be053aea38996a56798d"),
                    ("barman/p01.pddl", "0e48b310b50b75d53f5c347d6f9d82f1734bcf992fa1674692d450d31cc080de"),
                    ("barman/p02.pddl", "4a2062baf57ce17ce08bf0e0cd48eda4b41495f77397ac8934b46200766ffdaa"),
                    ("barman/p03.pddl", "82af3f36c400209746ff8a7d78a078bb1af8111225c2f7d64589931a48e89132"),
                    ("barman/p04.pddl", "f8bce10cf7ab7dc83e4e77701a09537c3f2b47dfbd401d75fbd31e72204f1057"),
                    ("barman/p05.pddl", "d950fbda890b2bcc8543dc2399f537cec5487895d4950be8d2dfacaa05983bfa"),
                    ("barman/p06.pddl", "0a8ecf67c09e243fa0fc5269764bfb449e2e40d3348746f2d4717496468b35e4"),
                    ("barman/p07.pddl", "c3727c31caa4d273fcbc3333e01a33c13d39a3ff80922f45a14009d5bb274de9"),
                    ("barman/p08.pddl", "852e8d69a3762ac38a0b031c9e92fa4d02fc44f694e47ffb09077788bfc58ebf"),
                    ("barman/p09.pddl", "e2058aab7131f65528e49b81915020380d05be407c5496e89b706f38dc649e22"),
                    ("barman/p10.pddl", "d058c31ce5c8a27c85536311ff98f149bbec8f1663fbebfb57a5d20bd2edfaa1"),
                    ("barman/p11.pddl", "7efba30b1226a8cad4ba82ebe748a1046b3b0cf0280d3919be5b53a9724929b0"),
                    ("barman/p12.pddl", "08288599b370f3d349237e5e7bf30c5ff9af8a477d4349f35c69518851c85bea"),
                    ("barman/p13.pddl", "5ae2c0cc821f3195815128096a235278f75e83e3bfdafcb4407c311d23b0357e"),
                    ("barman/p14.pddl", "dcca67b67c42641ac2e80666f31ee532bd08752f66d0df92991a65c73cb4b028"),
                    ("barman/p15.pddl", "576d5baad2cdeefd6a9f7e8dfee82f7fce6c57976ee68c76cce7f45117cafcea"),
                    ("barman/p16.pddl", "4d30dbfdb9be3c58524b2dee43c68a3daafabc979d1705e5d0bc2e460e13b104"),
                    ("barman/p17.pddl", "376f8c8ed47be6f0d73f7b60ec183ca04e12b79ab94eed2413513c19c2db896c"),
                    ("barman/p18.pddl", "efdef0ac44d2d6c529a14e311f8c3e530ef3f935a4302d0110707f20eb2b6db3"),
                    ("barman/p19.pddl", "0c94a0fc87db2856b2c97dad2aa78a8be83e7e37461a6f816b4200c14ee2b57a"),
                    ("barman/p20.pddl", "a6e5dc9b5963c02ee99a0a369f71fb5d50c1206880775674cdda4c3e18ceb855"),
                    ("tyreworld.pddl", "f83a60b37fc27aa9abfa15f619983d68730d6e68e2b85e7f281d98e131a366e1"),
                    ("tyreworld/p01.pddl", "c4567ab50deeac38ac1bf11e9ebda2e23d3a0e78087e4f92ab2c2165b62cf674"),
                    ("tyreworld/p02.pddl", "e9397bf5c83dd2dfdcb5e2796dcba604c56ad16033745ad42f9e9bee083cffac"),
                    ("tyreworld/p03.pddl", "99ea6a748dedf941dfa72de2277621e54d87f46afb19e0e84f1625187d371505"),
                    ("tyreworld/p04.pddl", "28fb330d691e0616719c9f10d9fe0104bfb4e893caa3d06e2a5867220ab068f5"),
                    ("tyreworld/p05.pddl", "ee19a62c321823f7ffe219d7cebb618515cbb72d3a70634dc59c62c35478a8b1"),
                    ("tyreworld/p06.pddl", "1a104d4ff627d91c04fad8bd7ba2113d666c737101c2346cbe50bd4f91399c9f"),
                    ("tyreworld/p07.pddl", "54b6ea8e10b4015ee1e5bf03f66e9bf838d29f529e518a0c8a62b623f6bdceaf"),
                    ("tyreworld/p08.pddl", "9b8488c7c33464d01ac99539dfed7fcc23098551c82b96fabf4f9138a4bc922f"),
                    ("tyreworld/p09.pddl", "a960940c30c107557b826269bf7a6e85f7ecd704cb6165f64da1074dcd128783"),
                    ("tyreworld/p10.pddl", "68630c95c47f0584793b59acdeb15f2e66917b9fc6d6fa56c6528e9a2a7874e0"),
                )
            ),
        ),
        "AgentBoard's PDDL test set: 60-row annotation file (hkust-nlp/agentboard, GPL-2.0) and the 4 domain and "
        "60 problem files its pddlgym copy loads (hkust-nlp/AgentBoard @ bb7255e2, pddlgym's MIT folder; IPC domains)",
    ),
    "alfworld": TaskData(
        "alfworld",
        tuple(
            DataFile(path, alfworld_games.TW_PDDL_ARCHIVE, sha256=digest, member=path)
            for path, digest in alfworld_games.catalogue_files()
        ),
        "ALFWorld json_2.1.1 game files (alfworld/alfworld release 0.2.2, MIT): 134 valid_unseen (test), "
        "140 valid_seen (dev); see envs/alfworld/PROVENANCE.md",
        required=True,
    ),
    # AgentRM reward-model instructions (thunlp/AgentRM, eval_agent/prompt/prm_instruction/, renamed with a
    # prm_ prefix): the input head of AgentRM's released explicit reward models (agentrm_bench.rewards).
    "alfworld/agentrm_prompts": TaskData(
        "alfworld/agentrm_prompts",
        (
            DataFile(
                "prm_alfworld.txt",
                _AGENTRM_PRM + "alfworld.txt",
                sha256="8bd048a4965ee8e0eb96070526ff0e4307ffbc30023f2079e909740ee506e30d",
            ),
            DataFile(
                "prm_alfworld_ab_wo_turninfo.txt",
                _AGENTRM_PRM + "alfworld_ab_wo_turninfo.txt",
                sha256="abac7463d0e75a66e3438f9f2746fe10d7dc8df24e82fd0590d898367f28a684",
            ),
            DataFile(
                "prm_alfworld_wo_turninfo.txt",
                _AGENTRM_PRM + "alfworld_wo_turninfo.txt",
                sha256="bab15d8292ff2875b823028d9d44b75b47d91898640b8a86f0506d4fdfa92c3a",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "babyai/agentrm_prompts": TaskData(
        "babyai/agentrm_prompts",
        (
            DataFile(
                "prm_babyai.txt",
                _AGENTRM_PRM + "babyai.txt",
                sha256="8c2ac006bffc39d39a7641a8e96a923c07856009620d335c7b8f2426506d6f28",
            ),
            DataFile(
                "prm_babyai_wo_turninfo.txt",
                _AGENTRM_PRM + "babyai_wo_turninfo.txt",
                sha256="c6d49d1c6ad7a31f36a67a0eab74ac4e577e4b8445b90ab40edcf857c7cfd69d",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "jericho/agentrm_prompts": TaskData(
        "jericho/agentrm_prompts",
        (
            DataFile(
                "prm_jericho.txt",
                _AGENTRM_PRM + "jericho.txt",
                sha256="d941e95ddeaf0074bfe964f8314fdd722fef3e932bb803e9aaf6b0ab1d9a99de",
            ),
            DataFile(
                "prm_jericho_wo_turninfo.txt",
                _AGENTRM_PRM + "jericho_wo_turninfo.txt",
                sha256="cd463ba8c8a214437fa8e6919bd125f13b01b97dda64535a48eeac94a850c169",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "maze/agentrm_prompts": TaskData(
        "maze/agentrm_prompts",
        (
            DataFile(
                "prm_maze_wo_turninfo.txt",
                _AGENTRM_PRM + "maze_wo_turninfo.txt",
                sha256="436a344d94123fe467fa98543df4dab5494d86781320550ed1aa28fee43eb704",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "pddl/agentrm_prompts": TaskData(
        "pddl/agentrm_prompts",
        (
            DataFile(
                "prm_pddl_barman.txt",
                _AGENTRM_PRM + "pddl_barman.txt",
                sha256="3b4f616360f5fec172aefb960c81b13c0be1e3f14a23e61e7c2c085e1c388c44",
            ),
            DataFile(
                "prm_pddl_barman_wo_turninfo.txt",
                _AGENTRM_PRM + "pddl_barman_wo_turninfo.txt",
                sha256="6f34dd814f73e5a3766078299582cbd58873f1e7c1932c60a93f9c4d780ee10f",
            ),
            DataFile(
                "prm_pddl_blockworld.txt",
                _AGENTRM_PRM + "pddl_blockworld.txt",
                sha256="99b7e42a6962ffbb3ebde33a5120c742e12e446d617bd05decfeb127ce6a8a36",
            ),
            DataFile(
                "prm_pddl_blockworld_wo_turninfo.txt",
                _AGENTRM_PRM + "pddl_blockworld_wo_turninfo.txt",
                sha256="da06e19cd2e93fb6afe7485232a1f216224acbce65d4b127e6a52c67d3db1f4e",
            ),
            DataFile(
                "prm_pddl_gripper.txt",
                _AGENTRM_PRM + "pddl_gripper.txt",
                sha256="17719182b4e2617eee50e7c9cc32bf198324f7ee78db50ec4c80d714e7f5e3a5",
            ),
            DataFile(
                "prm_pddl_gripper_wo_turninfo.txt",
                _AGENTRM_PRM + "pddl_gripper_wo_turninfo.txt",
                sha256="c92ad55c39d972fc33b287c705c4b9e0d9366bc4aba7709642b264639039fdf2",
            ),
            DataFile(
                "prm_pddl_tyreworld.txt",
                _AGENTRM_PRM + "pddl_tyreworld.txt",
                sha256="87799263a092a5ec51ebe76b137accf3c6c78e5aca65bc30572a7cd08ce0f93a",
            ),
            DataFile(
                "prm_pddl_tyreworld_wo_turninfo.txt",
                _AGENTRM_PRM + "pddl_tyreworld_wo_turninfo.txt",
                sha256="26687399b7b8f100fa1e98b39c356bfe8c49996dc63a2489451e9d2a60b0268f",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "sciworld/agentrm_prompts": TaskData(
        "sciworld/agentrm_prompts",
        (
            DataFile(
                "prm_sciworld.txt",
                _AGENTRM_PRM + "sciworld.txt",
                sha256="a51b18659cc150fa7bdf6ea5f362904c2dd0302ce14b47cdcdaee1ed0523b08b",
            ),
            DataFile(
                "prm_sciworld_ab_wo_turninfo.txt",
                _AGENTRM_PRM + "sciworld_ab_wo_turninfo.txt",
                sha256="5fa8617867f21fa6cfee066099083cc541af82a42495847e9cd46e03362bcdbe",
            ),
            DataFile(
                "prm_sciworld_wo_turninfo.txt",
                _AGENTRM_PRM + "sciworld_wo_turninfo.txt",
                sha256="c00298131d8b6d15fc5c2d8009918c2d0ac093efcf5cfee4fc7426272e662476",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    "tools/agentrm_prompts": TaskData(
        "tools/agentrm_prompts",
        (
            DataFile(
                "prm_tool_operation.txt",
                _AGENTRM_PRM + "tool_operation.txt",
                sha256="e4741ebf4b8e0b75af579b6456a0f9ac2df8a1f2c11ff0eb5542a7ce155ac2d4",
            ),
            DataFile(
                "prm_tool_operation_wo_turninfo.txt",
                _AGENTRM_PRM + "tool_operation_wo_turninfo.txt",
                sha256="74892783f98e9250a6c894fb274311c50a7ea515bb3483f0f1aae93911142078",
            ),
            DataFile(
                "prm_tool_query.txt",
                _AGENTRM_PRM + "tool_query.txt",
                sha256="e4741ebf4b8e0b75af579b6456a0f9ac2df8a1f2c11ff0eb5542a7ce155ac2d4",
            ),
            DataFile(
                "prm_tool_query_wo_turninfo.txt",
                _AGENTRM_PRM + "tool_query_wo_turninfo.txt",
                sha256="74892783f98e9250a6c894fb274311c50a7ea515bb3483f0f1aae93911142078",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
    # WebShop (princeton-nlp/WebShop, MIT): the 1,000-product shop, its human instructions, ETO's test ids and
    # WebShop's own goal-order list. See envs/webshop/PROVENANCE.md.
    "webshop": TaskData(
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
    ),
    # The 1.18M-product catalogue (~5 GB), only on WebShop's Google Drive (setup.sh -d all); no checksum is
    # known here. Fetched on its own: agentrm-bench data fetch webshop/full.
    "webshop/full": TaskData(
        "webshop/full",
        (
            DataFile("data/items_shuffle.json", _GDRIVE + "1A2whVgOO0euk5O13n2iYDM0bQRkkRduB"),
            DataFile("data/items_ins_v2.json", _GDRIVE + "1s2j6NgHljiZzQNL3veZaAiyW_qDEgBNi"),
        ),
        "WebShop's full catalogue: items_shuffle.json and items_ins_v2.json (princeton-nlp/WebShop setup.sh, MIT)",
        folder="webshop",
    ),
    "webshop/agentrm_prompts": TaskData(
        "webshop/agentrm_prompts",
        (
            DataFile(
                "prm_webshop.txt",
                _AGENTRM_PRM + "webshop.txt",
                sha256="0fffb72a01197765f4316f73b264d79e733b85fdd66a65eac4cae170355f1a29",
            ),
            DataFile(
                "prm_webshop_wo_turninfo.txt",
                _AGENTRM_PRM + "webshop_wo_turninfo.txt",
                sha256="9ceeb3d8b24f894ed3996bf5273f44f4487306cabbb282e1db76f2266ab39bc7",
            ),
        ),
        "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
    ),
}


def data_root() -> Path:
    """``$AGENTRM_BENCH_DATA`` if set, else the user's cache directory."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("agentrm-bench")) / "data"


def task_data(task: str) -> TaskData:
    try:
        return CATALOGUE[task]
    except KeyError:
        known = sorted(CATALOGUE)
        raise KeyError(f"no upstream data is declared for task {task!r}; tasks with data: {known}") from None


def missing(task: str, root: Path | None = None) -> list[DataFile]:
    """The declared files of ``task`` that are not present."""
    folder = task_folder(task, root)
    return [f for f in task_data(task).files if not (folder / f.path).is_file()]


def path(task: str, relative: str) -> Path:
    """The local path of one declared file, or a :class:`DataMissingError` naming the fetch command."""
    candidate = task_folder(task) / relative
    if not candidate.is_file():
        raise DataMissingError(
            f"{task}: upstream file {relative!r} is not in {candidate.parent} "
            f"(run `agentrm-bench data fetch {task}`, or point {ENV_VAR} at a folder holding it)"
        )
    return candidate


def status(root: Path | None = None) -> list[dict[str, object]]:
    """One row per task with declared data: how many files are present."""
    rows = []
    for task, spec in sorted(CATALOGUE.items()):
        absent = missing(task, root)
        rows.append(
            {
                "task": task,
                "present": len(spec.files) - len(absent),
                "declared": len(spec.files),
                "missing": _shorten([f.path for f in absent]),
                "folder": str(task_folder(task, root)),
            }
        )
    return rows


def _shorten(paths: list[str], shown: int = 3) -> str:
    if not paths:
        return "-"
    more = f" (+{len(paths) - shown} more)" if len(paths) > shown else ""
    return ", ".join(paths[:shown]) + more


def sha256_of(file: Path) -> str:
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    task: str,
    root: Path | None = None,
    opener: Callable[[str], io.BufferedIOBase] = urllib.request.urlopen,
    force: bool = False,
) -> list[Path]:
    """Download and verify every declared file of ``task``; files already present are kept.

    Each file is written to a temporary name and renamed only once its checksum holds, so an
    interrupted fetch never leaves a half file where a task would read it.
    """
    folder = task_folder(task, root)
    folder.mkdir(parents=True, exist_ok=True)
    archives: dict[str, Path] = {}
    written = []
    with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as scratch:
        for declared in task_data(task).files:
            target = folder / declared.path
            if target.is_file() and not force:
                continue
            if declared.member is None:
                payload = _download(declared.url, Path(scratch), opener)
            else:
                if declared.url not in archives:
                    archives[declared.url] = _download(declared.url, Path(scratch), opener)
                payload = _extract(archives[declared.url], declared.member, Path(scratch))
            if declared.sha256 and sha256_of(payload) != declared.sha256:
                raise DataIntegrityError(
                    f"{task}: {declared.path} from {declared.url} has sha256 {sha256_of(payload)}, "
                    f"expected {declared.sha256}"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(payload, target)
            written.append(target)
    return written


def _download(url: str, scratch: Path, opener: Callable[[str], io.BufferedIOBase]) -> Path:
    destination = Path(tempfile.mkstemp(dir=scratch)[1])
    with opener(url) as response, open(destination, "wb") as out:
        shutil.copyfileobj(response, out)
    return destination


def _extract(archive: Path, member: str, scratch: Path) -> Path:
    destination = Path(tempfile.mkstemp(dir=scratch)[1])
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle, bundle.open(member) as src, open(destination, "wb") as out:
            shutil.copyfileobj(src, out)
        return destination
    with tarfile.open(archive) as bundle:
        src = bundle.extractfile(member)
        if src is None:
            raise DataIntegrityError(f"{member} in {archive.name} is not a regular file")
        with src, open(destination, "wb") as out:
            shutil.copyfileobj(src, out)
    return destination
