"""The answer's blocks in the order the page has them, after the block decision chose them.

Two steps can put a kept block out of the page's order: trafilatura's extraction (a block from
an earlier content XPath that found too little stays ahead of the next XPath's blocks; text it
recovers outside its main frame is appended at the end) and our merge of readability's blocks
(with no block shared with trafilatura's, nothing says where they belong, and they go first).
Neither knows where a block sits on the page: both bodies are new trees. So each kept block is
found in the page's text (whitespace ignored: a ``<br>`` or an inline tag changes the spacing,
not the characters), the largest set of blocks already in the page's order stays as it is, and
a block outside it moves only when its place is certain: every occurrence of its text on the
page lies between the same two blocks of that set. Blocks whose text cannot be placed (too
short, absent, or repeated in several places) travel with the block after them.
Only the order changes, never which blocks are kept: the decision has already run on the
candidates as they came, the sequence its features were fitted on.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

from lxml import etree

# A block is looked up by the first KEY_CHARS characters of its text, whitespace removed (its
# later text may differ from the page's: trafilatura drops inline clutter inside a paragraph).
KEY_CHARS: Final = 64
# Shorter texts ("Share", a date) match too much of a page by chance: they are not placed.
MIN_KEY_CHARS: Final = 16
# A text found more often than this is boilerplate repeated over the page: not placed.
MAX_OCCURRENCES: Final = 8
# Elements whose text is code, not text a reader sees.
CODE_TAGS: Final = ("script", "style")


def restore(body: etree._Element, page: etree._Element) -> None:
    """Reorder the block children of ``body`` (the answer) into the order of ``page`` (the
    parsed page), in place; a block's tail moves with it."""
    blocks = [child for child in body if isinstance(child.tag, str)]
    if len(blocks) < 2 or len(blocks) != len(body):
        return  # nothing to order, or comments/PIs among the blocks: left as they are
    text = _page_text(page)
    keys = [_key(block) for block in blocks]
    if _in_order(keys, text):
        return  # most pages: one forward scan of the page's text says so
    order = page_order([_occurrences(key, text) for key in keys])
    for block in blocks:
        body.remove(block)
    for number in order:
        body.append(blocks[number])


def page_order(occurrences: list[list[int]]) -> list[int]:
    """The new order of blocks whose texts start at ``occurrences`` (each block's positions in
    the page, empty when unknown): the longest run already in order stays; a block outside it
    moves where the page has it when all its positions lie between the same two blocks of that
    run; the others stay just before the block after them (at the end when none is)."""
    chosen = _longest_increasing(occurrences)
    anchors = sorted(chosen)  # block numbers, their positions increasing
    anchor_positions = [chosen[number] for number in anchors]
    moves: dict[int, int] = {}  # block -> gap (the number of anchors before its place)
    for number, positions in enumerate(occurrences):
        if number not in chosen and positions:
            gap = bisect_left(anchor_positions, positions[0])
            if gap == bisect_left(anchor_positions, positions[-1]):
                moves[number] = gap
    # Each anchor or moving block carries the blocks before it that cannot be placed.
    units: dict[int, list[int]] = {}
    pending: list[int] = []
    for number in range(len(occurrences)):
        pending.append(number)
        if number in chosen or number in moves:
            units[number], pending = pending, []
    gaps: dict[int, list[tuple[int, int]]] = {}
    for number, gap in moves.items():
        gaps.setdefault(gap, []).append((occurrences[number][0], number))
    order: list[int] = []
    for gap in range(len(anchors) + 1):
        for _position, number in sorted(gaps.get(gap, [])):
            order.extend(units[number])
        if gap < len(anchors):
            order.extend(units[anchors[gap]])
    return order + pending  # the blocks after the last one placed stay at the end


def _longest_increasing(occurrences: list[list[int]]) -> dict[int, int]:
    """Block number -> position for the largest set of blocks, in their order, whose positions
    increase (one position per block; patience sorting, a block's candidates taken in
    decreasing order so that no two of them chain)."""
    tail_positions: list[int] = []  # the smallest last position of an increasing run of length k + 1
    tail_nodes: list[int] = []
    nodes: list[tuple[int, int, int]] = []  # (block, position, node before it or -1)
    for number, positions in enumerate(occurrences):
        for position in sorted(positions, reverse=True):
            length = bisect_left(tail_positions, position)
            nodes.append((number, position, tail_nodes[length - 1] if length else -1))
            if length == len(tail_positions):
                tail_positions.append(position)
                tail_nodes.append(len(nodes) - 1)
            else:
                tail_positions[length] = position
                tail_nodes[length] = len(nodes) - 1
    chosen: dict[int, int] = {}
    node = tail_nodes[-1] if tail_nodes else -1
    while node != -1:
        number, position, node = nodes[node]
        chosen[number] = position
    return chosen


def _page_text(page: etree._Element) -> str:
    """The text of the page's body without its scripts and styles, whitespace removed.

    Scripts often hold the article's text again (a JSON state at the end of the body), which
    would make every block's place ambiguous. Their text is set aside while lxml serializes the
    text (in C; a walk in Python or a copy of the tree costs 2-3x more) and put back after.
    """
    body = page.find("body")
    root = body if body is not None else page
    code = [(element, element.text) for element in root.iter(*CODE_TAGS) if element.text]
    try:
        for element, _text in code:
            element.text = None
        text = etree.tostring(root, method="text", encoding=str, with_tail=False)
    finally:
        for element, source in code:
            element.text = source
    return "".join(text.split())


def _key(block: etree._Element) -> str:
    """The first ``KEY_CHARS`` characters of the block's text, whitespace removed."""
    key = ""
    for piece in block.itertext():
        key += "".join(piece.split())
        if len(key) >= KEY_CHARS:
            break
    return key[:KEY_CHARS]


def _in_order(keys: list[str], text: str) -> bool:
    """Whether no key that ``text`` holds is found only before the one ahead of it."""
    cursor = 0
    for key in keys:
        if len(key) < MIN_KEY_CHARS:
            continue
        position = text.find(key, cursor)
        if position == -1:
            if text.find(key, 0, cursor + len(key)) != -1:
                return False
            continue
        cursor = position + 1
    return True


def _occurrences(key: str, text: str) -> list[int]:
    """Where ``key`` starts in ``text``; none when it is too short to say or too common."""
    if len(key) < MIN_KEY_CHARS:
        return []
    found: list[int] = []
    start = text.find(key)
    while start != -1:
        found.append(start)
        if len(found) > MAX_OCCURRENCES:
            return []
        start = text.find(key, start + 1)
    return found
