"""The shop's pages in WebShop's *text* observation mode, and what each page lets one click.

Upstream renders HTML pages (``web_agent_site/templates``) and its text mode joins the visible text
pieces with `` [SEP] ``. These functions produce that text directly from the page's content, following
the page layout the published agents saw (the template generation with ``Page 1 (Total results: 50)``
and ``< Prev`` on item pages):

- search page: ``WebShop [SEP] Instruction: [SEP] <goal> [SEP] Search``
- results: ``Instruction: [SEP] <goal> [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP]
  Next > [SEP] <ASIN> [SEP] <title> [SEP] <price> ...`` (``< Prev`` too from page 2 on; the layout shows
  ``Next >`` on every results page, as upstream's does)
- item: ``... [SEP] Back to Search [SEP] < Prev [SEP] <option name> [SEP] <value> ... [SEP] <title>
  [SEP] Price: <price> [SEP] Rating: N.A. [SEP] Description [SEP] Features [SEP] Reviews [SEP] Buy Now``
- Description / Features / Reviews: ``... [SEP] Back to Search [SEP] < Prev [SEP] <the text>``
- after Buy Now: ``Thank you for shopping with us! [SEP] Your score (min 0.0, max 1.0) [SEP] <reward>``
  (upstream's done page also prints hidden debugging fields; the episode is over at that point).

Clickables are matched like upstream's text env: the lowercased argument of ``click[...]`` against the
lowercased button texts and ASINs, and against option values (already lowercase); an option value that
equals a button text is the option.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalogue import Product

SEP = " [SEP] "
BACK_TO_SEARCH = "Back to Search"
NEXT_PAGE = "Next >"
PREV_PAGE = "< Prev"
BUY_NOW = "Buy Now"
SUB_PAGES = ("Description", "Features", "Reviews")
PAGE_SIZE = 10
RATING = "N.A."  # upstream's released loader reads no reviews file, so every product shows N.A.


@dataclass(frozen=True)
class Page:
    """One rendered page: its text observation and its clickables (display text, in page order).

    ``options`` maps each clickable option value to the option name it sets.
    """

    observation: str
    buttons: tuple[str, ...]
    options: dict[str, str]
    has_search_bar: bool = False

    def clickables(self) -> dict[str, str]:
        """Lowercased click target -> what it is: a button/ASIN text, or ``option:<name>``."""
        keys = {b.lower(): b for b in self.buttons if b not in self.options}
        for value, name in self.options.items():
            keys[value] = f"option:{name}"
        return keys


def _join(*parts: str) -> str:
    return SEP.join(p.strip() for p in parts if p and p.strip())


def search_page(instruction: str) -> Page:
    return Page(_join("WebShop", "Instruction:", instruction, "Search"), (), {}, has_search_bar=True)


def results_page(instruction: str, page: int, total: int, products: list[Product]) -> Page:
    nav = [PREV_PAGE, NEXT_PAGE] if page > 1 else [NEXT_PAGE]
    listing: list[str] = []
    for product in products:
        listing += [product.asin, product.name, product.price_tag]
    text = _join("Instruction:", instruction, BACK_TO_SEARCH, f"Page {page} (Total results: {total})", *nav, *listing)
    return Page(text, (BACK_TO_SEARCH, *nav, *(p.asin for p in products)), {})


def item_page(instruction: str, product: Product) -> Page:
    option_parts: list[str] = []
    option_owner: dict[str, str] = {}
    for name, values in product.options.items():
        option_parts += [name, *values]
        for value in values:
            option_owner[value] = name  # a value listed under two names sets the later one, as upstream
    text = _join(
        "Instruction:",
        instruction,
        BACK_TO_SEARCH,
        PREV_PAGE,
        *option_parts,
        product.name,
        f"Price: {product.price_tag}",
        f"Rating: {RATING}",
        *SUB_PAGES,
        BUY_NOW,
    )
    values = [v for vs in product.options.values() for v in vs]
    buttons = (BACK_TO_SEARCH, PREV_PAGE, *dict.fromkeys(values), *SUB_PAGES, BUY_NOW)
    return Page(text, buttons, option_owner)


def sub_page(instruction: str, product: Product, which: str) -> Page:
    if which == "Description":
        body = [product.description]
    elif which == "Features":
        body = list(product.bullets)
    else:
        body = []  # Reviews: no review data upstream either
    return Page(_join("Instruction:", instruction, BACK_TO_SEARCH, PREV_PAGE, *body), (BACK_TO_SEARCH, PREV_PAGE), {})


def done_page(reward: float) -> Page:
    return Page(_join("Thank you for shopping with us!", "Your score (min 0.0, max 1.0)", str(reward)), (), {})
