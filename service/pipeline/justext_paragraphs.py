"""jusText's paragraph maker with the spaces a browser shows kept (swapped in by ``extract``).

trafilatura keeps jusText's candidate for short or unclean extractions (``compare_extraction``,
the recall escalation's ``justext_rescue``), and that candidate's text is jusText's paragraph
text: words in it that the page shows apart came back glued.
"""

from __future__ import annotations

from typing import Any

from justext.core import PARAGRAPH_TAGS, ParagraphMaker

from service.pipeline.library_swaps import BLOCK_EDGE_TAGS

# Blocks a browser puts on lines of their own that jusText's paragraph tags (HTML 4's) lack:
# "<article>...Dollar</article><article>Keliber..." read "DollarKeliber" (s22 fidelity audit).
_UNKNOWN_BLOCKS = BLOCK_EDGE_TAGS - PARAGRAPH_TAGS


class ParagraphMakerKeepingSpaces(ParagraphMaker):  # type: ignore[misc]  # jusText is untyped
    """jusText's ``ParagraphMaker``, but the text of a paragraph keeps a space where a browser
    shows one: for a whitespace-only text node, and at the edges of the HTML5 blocks jusText
    does not know (``_UNKNOWN_BLOCKS``).

    jusText skips blank text nodes, so the space between two inline elements went with them:
    "<span>einer Rührschüssel</span> <span>150 g</span>" read "Rührschüssel150" (s22 fidelity
    audit). The HTML5 blocks become a space, not paragraph breaks: jusText classifies its
    paragraphs by their length and neighbours, and new paragraphs would change which text it
    keeps. A space is not counted as link text nor ends a ``<br>`` run (two ``<br>`` apart only by
    whitespace still part paragraphs), and a paragraph's leading or trailing one is trimmed.
    """

    def characters(self, content: str) -> None:
        if content.isspace():
            self._space()
        else:
            super().characters(content)

    def startElementNS(self, name: tuple[str | None, str], qname: Any, attrs: Any) -> None:  # noqa: N802  # SAX's name
        if name[1] in _UNKNOWN_BLOCKS:
            self._space()
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name: tuple[str | None, str], qname: Any) -> None:  # noqa: N802  # SAX's name
        if name[1] in _UNKNOWN_BLOCKS:
            self._space()
        super().endElementNS(name, qname)

    def _space(self) -> None:
        if self.paragraph.text_nodes:  # a paragraph's first text node starts it: no space before
            self.paragraph.text_nodes.append(" ")
