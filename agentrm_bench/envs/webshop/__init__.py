"""WebShop (held-in): buy what an instruction describes in princeton-nlp's simulated shop.

The shop is a service (``service.py``) over the catalogue (``catalogue.py``), a BM25 index
(``search.py``), upstream's pages (``pages.py``) and reward (``reward.py``); ``env.py`` is the client the
agent plays; ``expert.py`` plans purchases; ``Dockerfile`` is its sandbox image.
"""

from ...task_spec import HELD_IN, TaskSpec
from .upstream import FILES, FULL, RM_PROMPTS

SPEC = TaskSpec(
    id="agentrm/WebShop-v0",
    name="webshop",
    group=HELD_IN,
    category="web",
    headline="progress",
    sizes={"test": 500, "dev": 1000},
    max_turns=10,
    entry_point="agentrm_bench.envs.webshop.env:WebShopEnv",
    sandbox="server",
    image="webshop",
    requires=("bm25s", "Stemmer", "thefuzz", "spacy"),
    extra="webshop",
    data=(FILES, FULL),
    data_check="agentrm_bench.envs.webshop.catalogue:data_availability",
    rm_prompts=RM_PROMPTS,
    rm_template="prm_webshop",
)
