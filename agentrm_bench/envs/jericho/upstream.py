"""Upstream files of the jericho task: where each comes from and its sha256 (fetched, never committed)."""

from __future__ import annotations

from ...data import AGENTRM_PRM, DataFile, TaskData

FILES = TaskData(
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
)


RM_PROMPTS = TaskData(
    "jericho/agentrm_prompts",
    (
        DataFile(
            "prm_jericho.txt",
            AGENTRM_PRM + "jericho.txt",
            sha256="d941e95ddeaf0074bfe964f8314fdd722fef3e932bb803e9aaf6b0ab1d9a99de",
        ),
        DataFile(
            "prm_jericho_wo_turninfo.txt",
            AGENTRM_PRM + "jericho_wo_turninfo.txt",
            sha256="cd463ba8c8a214437fa8e6919bd125f13b01b97dda64535a48eeac94a850c169",
        ),
    ),
    "AgentRM PRM instructions (thunlp/AgentRM @ 5bad059b, no licence file: fetched, never shipped)",
)
