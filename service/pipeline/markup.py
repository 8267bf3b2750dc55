"""What a page's markup says about an element before any text is read: whether its text is
visible at all, and which kind of page furniture its own tag, class, id or ARIA role names.

One vocabulary for both users: ``explain`` gives a dropped block the reason of its nearest
container, and the block model (``source_map``) sees which reasons a block's ancestors carry.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

# Elements whose text a reader never sees as page text.
SKIPPED_TAGS = frozenset(
    ["script", "style", "noscript", "template", "head", "title", "svg", "math", "iframe", "object", "embed"]
)

# (reason, pattern on a container's tag, class and id), nearest container first. General
# markup conventions (WordPress, Drupal, schema.org, ARIA roles), not one site's names.
SECTION_REASONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern, re.IGNORECASE))
    for reason, pattern in (
        ("cookie-banner", r"cookie|consent|gdpr"),
        ("newsletter", r"newsletter|subscri|signup|sign-up|mailchimp|mc4wp"),
        ("share-buttons", r"shar(e|ing)|social|sociable|addthis|sharedaddy"),
        ("related-links", r"related|recent|more-(stories|articles|posts)|recommend|popular|trending|read-?more|yarpp"),
        ("comments", r"comment|disqus|respond|reply"),
        ("author-box", r"author|byline|about-the|bio\b|profile"),
        ("advertising", r"(^|[\s_-])ads?($|[\s_-])|advert|sponsor|promo|banner|dfp"),
        ("breadcrumbs", r"breadcrumb"),
        ("tags", r"(^|[\s_-])(tags?|categor(y|ies)|labels?)($|[\s_-])|tag-?cloud|post-?tags"),
        ("image-caption", r"caption|credit|wp-caption"),
        ("navigation", r"^nav$|(^|[\s_-])nav|menu|navbar|pagination|pager|skip-link|toc"),
        ("sidebar", r"^aside$|sidebar|widget"),
        ("page-header", r"^header$|masthead|site-header|topbar"),
        ("footer", r"^footer$|footer|colophon|copyright"),
        ("form", r"^form$|search"),
    )
)
ROLE_REASONS = {
    "navigation": "navigation",
    "banner": "page-header",
    "contentinfo": "footer",
    "complementary": "sidebar",
    "search": "form",
}
# Any of the patterns: most elements name none, and one search per label tells (the same answers).
_ANY_REASON: Final = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in SECTION_REASONS), re.IGNORECASE)
# Every reason the markup can give, in the order above.
REASONS: Final = tuple(dict.fromkeys([*(reason for reason, _ in SECTION_REASONS), *ROLE_REASONS.values()]))


def section_reasons(node: etree._Element) -> list[str]:
    """The reasons ``node``'s own role, tag, class and id name (the role's first, then the
    patterns' in their order); empty for an element that names none."""
    found = []
    role = (node.get("role") or "").lower()
    if role in ROLE_REASONS:
        found.append(ROLE_REASONS[role])
    labels = (node.tag, node.get("class") or "", node.get("id") or "")
    if not any(_ANY_REASON.search(label) for label in labels):
        return found
    for reason, pattern in SECTION_REASONS:
        if reason not in found and any(pattern.search(label) for label in labels):
            found.append(reason)
    return found
