# ruff: noqa: E501  (multilingual vocabulary: look-alike letters and long alternations are the point)
"""Multilingual vocabulary of page clutter: which short lines are share bars, bylines, teaser ages...

Owned by the plain-text mode (``text_mode``); the HTML-mode cleaner imports it read-only, so the
public names below are stable. Every pattern is meant to be matched against ONE line (or one
block's text) that has been stripped; they are anchored so that a sentence which merely mentions
"share" or "cookies" does not match. Languages covered: English, German, Spanish, French,
Italian, Portuguese, Dutch, Russian and Chinese (partly Polish/Turkish where cheap).

Public names:
    SHARE_LINE            a line made only of share/social-network words ("Share", "Tweet", "Teilen").
    BYLINE                a byline: "By Jane Doe", "Posted by", "Von Max Muster", "Por ...", "Автор: ...".
    BYLINE_LABEL_ONLY     the byline label alone ("Published by", "Posted by"), the name on the next line.
    BYLINE_START          a text that starts with a byline label (a cheap filter before BYLINE).
    RELATIVE_DATE         a teaser's age alone: "2 hours ago", "vor 3 Stunden", "hace 2 días", "2小时前".
    DATE_LINE             a line that is (mostly) an absolute date: "September 4, 2024", "11.04.2018".
    RELATED_HEADING       the heading of a teaser list: "Recent Posts", "Mehr zum Thema", "Читайте также".
    READ_MORE             a "Read more" / "Weiterlesen" link line.
    IMAGE_CREDIT          an image credit or caption source: "Image source: X", "Foto: X", "Photo: X".
    NEWSLETTER            newsletter / subscribe box lines.
    COOKIE_BANNER         cookie / consent banner lines.
    NEWSLETTER_HINTS      lower-case substrings one of which every NEWSLETTER match contains (a cheap pre-filter).
    COOKIE_HINTS          the same for COOKIE_BANNER.
    FOOTER                copyright, imprint, privacy and terms lines.
    COMMENTS_HEADING      the start of a comment section: "3 Comments", "Leave a Reply", "Kommentare".
    COMMENT_ACTION        per-comment action lines: "Reply", "Antworten", "Responder", "Ответить".
    NAVIGATION            menu words alone: "Home", "Menu", "Skip to content", "Startseite", "Suche".
    TAXONOMY              "Tags: ...", "Posted in: ...", "Kategorien: ..." lines.
    PAGINATION            "Next post", "Previous", "« Older", "Page 2 of 5".
    LINK_SEPARATORS       characters that join menu items on one line ("|", "»", "•", "·").
    STOPWORDS             frequent function words of the covered languages (lower-case).

Helpers: ``is_*`` functions wrap the patterns for callers that prefer a function.
"""

from __future__ import annotations

import re
from typing import Final

_I = re.IGNORECASE | re.UNICODE

# --- share / social -------------------------------------------------------------------------
# Words that, alone or in a row, make a share bar. Kept to words that are not ordinary prose.
SHARE_WORDS: Final[tuple[str, ...]] = (
    "share",
    "share this",
    "share on",
    "share this article",
    "share this post",
    "share this story",
    "shares",
    "tweet",
    "pin",
    "pin it",
    "email",
    "e-mail",
    "mail",
    "print",
    "facebook",
    "twitter",
    "x",
    "whatsapp",
    "telegram",
    "linkedin",
    "pinterest",
    "reddit",
    "tumblr",
    "xing",
    "flipboard",
    "pocket",
    "copy link",
    "copy",
    "link kopieren",
    "teilen",
    "teilen mit",
    "jetzt teilen",
    "artikel teilen",
    "drucken",
    "versenden",
    "compartir",
    "compartir en",
    "imprimir",
    "enviar",
    "partager",
    "imprimer",
    "condividi",
    "stampa",
    "compartilhar",
    "delen",
    "udostępnij",
    "поделиться",
    "поделиться в",
    "печать",
    "vk",
    "вконтакте",
    "ok",
    "одноклассники",
    "分享",
    "follow us",
    "folgen sie uns",
    "síguenos",
    "suivez-nous",
    "подписывайтесь",
    "like",
    "gefällt mir",
    "me gusta",
    "j'aime",
    "нравится",
    "rss",
    "youtube",
    "instagram",
    "bluesky",
    "mastodon",
    "threads",
    "google",
    "google+",
    "messenger",
    "sms",
    "skype",
    "viber",
    "snapchat",
    "tiktok",
)
_SHARE_ALT = "|".join(sorted((re.escape(w) for w in SHARE_WORDS), key=len, reverse=True))
SHARE_LINE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:(?:{_SHARE_ALT})\s*(?:\(\d+\))?\s*[:|/•·,]?\s*)+$|^\d+\s+(?:shares?|teilen|compartido)$", _I
)

# --- bylines ---------------------------------------------------------------------------------
BYLINE_LABELS: Final[tuple[str, ...]] = (
    "by",
    "posted by",
    "published by",
    "written by",
    "written and edited by",
    "words by",
    "author",
    "authors",
    "story by",
    "reporting by",
    "von",
    "autor",
    "autorin",
    "geschrieben von",
    "veröffentlicht von",
    "verfasst von",
    "ein beitrag von",
    "por",
    "escrito por",
    "publicado por",
    "par",
    "écrit par",
    "publié par",
    "di",
    "scritto da",
    "pubblicato da",
    "door",
    "geschreven door",
    "автор",
    "авторы",
    "текст",
    "опубликовал",
    "опубликовано",
    "作者",
    "文",
    "przez",
)
_BYLINE_ALT = "|".join(sorted((re.escape(w) for w in BYLINE_LABELS), key=len, reverse=True))
# A name: 1-5 capitalised (or any-case non-Latin) words, optional "and"/"und"/"y"/"и" between.
_NAME = r"[^\W\d_][\w.'’\-]*(?:\s+[^\W\d_][\w.'’\-]*){0,5}"
BYLINE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:{_BYLINE_ALT})\s*[:\-–—]?\s+(?P<names>{_NAME}(?:\s*(?:,|&|\band\b|\bund\b|\by\b|\bet\b|\be\b|\bи\b)\s*{_NAME})*)"
    r"(?:\s*[|,•·\-–—]\s*.{0,60})?$",
    _I,
)
BYLINE_LABEL_ONLY: Final[re.Pattern[str]] = re.compile(rf"^(?:{_BYLINE_ALT})\s*:?$", _I)
BYLINE_START: Final[re.Pattern[str]] = re.compile(rf"^\s*(?:{_BYLINE_ALT})\b", _I)

# --- dates -----------------------------------------------------------------------------------
_NUM = r"(?:\d{1,3}|an?|one|two|three|ein(?:e|em|er)?|un[ao]?|une|один|одна|две|два)"
RELATIVE_DATE: Final[re.Pattern[str]] = re.compile(
    r"^(?:(?:posted|updated|aktualisiert|publicado|actualizado)\s+)?(?:"
    rf"(?:about\s+)?{_NUM}\s+(?:sec(?:ond)?s?|min(?:ute)?s?|hours?|hrs?|h|days?|d|weeks?|w|months?|years?|yrs?)\s+ago"
    rf"|vor\s+(?:etwa\s+)?{_NUM}\s+(?:sekunden?|minuten?|min\.?|stunden?|std\.?|tag(?:en)?|wochen?|monat(?:en)?|jahr(?:en)?)"
    rf"|hace\s+(?:unos?\s+)?{_NUM}\s+(?:segundos?|minutos?|horas?|días?|dias?|semanas?|mes(?:es)?|años?)"
    rf"|há\s+{_NUM}\s+(?:segundos?|minutos?|horas?|dias?|semanas?|mes(?:es)?|anos?)"
    rf"|il\s+y\s+a\s+{_NUM}\s+(?:secondes?|minutes?|heures?|jours?|semaines?|mois|ans?)"
    rf"|{_NUM}\s+(?:secondi|minuti|ore|ora|giorni|giorno|settimane|mesi|anni)\s+fa"
    rf"|{_NUM}\s+(?:seconden|minuten|uur|uren|dagen|dag|weken|maanden|jaar)\s+geleden"
    r"|\d{1,3}\s+(?:секунд\w*|минут\w*|час\w*|дн\w*|день|недел\w*|месяц\w*|год\w*|лет)\s+назад"
    r"|\d{1,3}\s*(?:秒|分钟|分|小时|天|日|周|个月|年)前"
    r"|just now|gerade eben|soeben|ahora mismo|à l'instant|только что|刚刚"
    r"|yesterday|today|gestern|heute|ayer|hoy|hier|aujourd'hui|ieri|oggi|вчера|сегодня|昨天|今天"
    r")(?:\s*[,|•·\-–—]?\s*(?:\d{1,2}[:.]\d{2}(?:\s*[ap]m)?|um\s+\d{1,2}[:.]\d{2}(?:\s*uhr)?))?\.?$",
    _I,
)
_MONTHS = (
    r"jan(?:uary|uar|vier|eiro)?|feb(?:ruary|ruar)?|f[ée]v(?:rier)?|m[aä]r(?:ch|z|s)?|apr(?:il)?|avr(?:il)?"
    r"|may|mai|maio|jun[ei]?|juin|jul[iy]?|juil(?:let)?|aug(?:ust)?|ao[uû]t|sep(?:t(?:ember|embre)?)?"
    r"|o[ck]t(?:ober|obre)?|nov(?:ember|embre)?|de[cz](?:ember|embre)?|déc(?:embre)?"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    r"|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
    r"|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"
)
_WEEKDAYS = (
    r"mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|miércoles|jueves"
    r"|viernes|sábado|domingo|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    r"|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье"
)
# A date, loosely: numeric (2024-09-04, 04.09.2024, 9/4/24) or with a month name in any order.
DATE_EXPR: Final[str] = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    rf"|(?:(?:{_WEEKDAYS}),?\s+)?(?:\d{{1,2}}\.?\s+(?:de\s+)?(?:{_MONTHS})\.?,?(?:\s+(?:de\s+)?\d{{4}})?"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}})"
    r"|\d{4}年\d{1,2}月\d{1,2}日)"
)
DATE_LINE: Final[re.Pattern[str]] = re.compile(
    rf"^(?:(?:published|posted|updated|last updated|veröffentlicht|aktualisiert|stand|erstellt|datum"
    rf"|publicado|actualizado|publié|mis à jour|pubblicato|опубликовано|обновлено|发布时间|date)\s*(?:on|am|el|le|:)?\s*)?"
    rf"(?:(?:{_WEEKDAYS}),?\s+)?(?:am\s+|on\s+|el\s+|le\s+)?{DATE_EXPR}"
    r"(?:\s*(?:,|um|at|a las|à|в|-|–|\|)?\s*\d{1,2}[:.h]\d{2}(?:\s*(?:[ap]\.?m\.?|uhr|h))?(?:\s*[A-Z]{2,4})?)?\.?$",
    _I,
)

# --- teaser lists and read-more --------------------------------------------------------------
RELATED_HEADING: Final[re.Pattern[str]] = re.compile(
    r"^(?:"
    r"recent(?:ly)?\s+(?:posts?|articles?|stories|news|comments|entries)|latest\s+(?:posts?|articles?|news|stories)"
    r"|related(?:\s+(?:posts?|articles?|stories|content|news|links|reading|topics))?|see also|also read|read also"
    r"|more\s+(?:from|on|about|in|stories|news|articles|like this|to explore)\b.{0,40}|you (?:may|might) also (?:like|enjoy)"
    r"|(?:most\s+)?(?:popular|read|viewed|shared)(?:\s+(?:posts?|articles?|stories|now|today))?|trending(?:\s+now)?"
    r"|editor'?s picks|top stories|recommended(?:\s+for you)?|what to read next|further reading|more news"
    r"|mehr zum thema.{0,40}|mehr aus (?:dem|der).{0,40}|das könnte sie (?:auch )?interessieren|weitere (?:artikel|beiträge|themen|nachrichten|meldungen)"
    r"|ähnliche (?:artikel|beiträge)|verwandte (?:artikel|beiträge|themen)|neueste (?:artikel|beiträge)|aktuelle (?:artikel|beiträge|nachrichten)"
    r"|meistgelesen(?:e)?(?:\s+artikel)?|beliebte (?:artikel|beiträge)|lesen sie auch|auch interessant|empfehlungen|top[- ]themen"
    r"|artículos? relacionados?|entradas? relacionadas?|noticias relacionadas|te puede interesar|también te puede interesar"
    r"|lo más (?:leído|visto)|entradas recientes|últimas (?:noticias|entradas)|lee también|más noticias|ver también"
    r"|articles? (?:similaires|récents|liés)|à lire aussi|lire aussi|sur le même sujet|les plus lus"
    r"|articoli correlati|leggi anche|potrebbe interessarti|artigos relacionados|leia também"
    r"|gerelateerde artikelen|lees ook|meest gelezen"
    r"|похожие (?:статьи|новости|материалы|записи)|читайте также|читайте еще|смотрите также|ещё по теме|еще по теме"
    r"|другие новости|последние новости|популярное|самое читаемое|по теме|свежие записи|новости по теме"
    r"|相关文章|相关阅读|推荐阅读|热门文章|最新文章"
    r")\s*:?$",
    _I,
)
READ_MORE: Final[re.Pattern[str]] = re.compile(
    r"^(?:read (?:more|the full (?:story|article)|on)|continue reading|keep reading|view (?:all|more)|see (?:all|more)"
    r"|load more|show more|more\s*»?|weiterlesen|mehr lesen|mehr anzeigen|alle anzeigen|zum artikel|mehr erfahren"
    r"|leer más|seguir leyendo|ver más|ver todo|lire la suite|en savoir plus|voir plus|continua a leggere|leggi di più"
    r"|leia mais|lees meer|читать (?:далее|дальше|полностью)|подробнее|далее|показать ещё|阅读更多|查看更多|更多)"
    r"\s*(?:[»›→>…]+|\.{3})?.{0,40}$",
    _I,
)

# --- credits -----------------------------------------------------------------------------------
IMAGE_CREDIT: Final[re.Pattern[str]] = re.compile(
    r"^(?:\(?\s*(?:image|images|photo|photos|picture|pictures|pic|illustration|graphic|video|source|credit|credits"
    r"|image source|image credit|photo credit|photo by|photograph|photography|header image|featured image|cover image"
    r"|bild|bilder|foto|fotos|bildquelle|quelle|grafik|titelbild|bildnachweis|fuente|imagen|imágenes|crédito|créditos"
    r"|crédits?|source de l'image|fonte|immagine|afbeelding|beeld|фото|фотография|источник|изображение|иллюстрация"
    r"|图片来源|图片|来源|图)\s*(?:\([^)]{0,40}\))?\s*[:：©]\s*.{1,120}\)?"
    r"|.{1,80}(?:/|\s)(?:getty images|shutterstock|istock(?:photo)?|reuters|afp|ap photo|dpa|picture alliance|imago|epa|unsplash|pixabay|pexels)\s*\)?"
    r")$",
    _I,
)

# --- boxes: newsletter, cookies ------------------------------------------------------------
NEWSLETTER: Final[re.Pattern[str]] = re.compile(
    r"(?:\bnewsletter\b|\bsubscribe\b|\bsign up\b|\bsign-up\b|\bsubscription\b|enter your e-?mail|your e-?mail address"
    r"|\binbox\b|abonnieren|abonniere|anmelden\s+zum|e-mail-adresse|ihre e-mail|suscr[ií]b|suscripción|tu correo"
    r"|correo electrónico|abonnez|inscrivez|votre e-?mail|iscriviti|подпи[сш]|рассылк|订阅)",
    _I,
)
COOKIE_BANNER: Final[re.Pattern[str]] = re.compile(
    r"(?:\bcookies?\b|\bconsent\b|\bgdpr\b|\bdsgvo\b|datenschutzeinstellungen|privacy settings|privacy preferences"
    r"|accept all|alle akzeptieren|aceptar todas?|tout accepter|accetta tutti|принять все|куки|файлы cookie)",
    _I,
)
# Pre-filters: every alternative of NEWSLETTER / COOKIE_BANNER contains one of these (lower-case)
# substrings, so a line whose lower-cased text contains none of them cannot match; the substring
# tests are far cheaper than the unanchored searches (tests/pipeline/test_text_mode.py checks them).
NEWSLETTER_HINTS: Final[tuple[str, ...]] = (
    "newsletter",
    "subscri",
    "sign up",
    "sign-up",
    "your e",
    "inbox",
    "abonnier",
    "anmelden",
    "e-mail-adresse",
    "ihre e-mail",
    "suscr",
    "tu correo",
    "correo electr",
    "abonnez",
    "inscrivez",
    "votre e",
    "iscriviti",
    "подпи",
    "рассылк",
    "订阅",
)
COOKIE_HINTS: Final[tuple[str, ...]] = (
    "cookie",
    "consent",
    "gdpr",
    "dsgvo",
    "datenschutzeinst",
    "privacy",
    "accept all",
    "akzeptieren",
    "aceptar tod",
    "tout accepter",
    "accetta tutti",
    "принять все",
    "куки",
)


def has_hint(lower_text: str, hints: tuple[str, ...]) -> bool:
    """Whether the lower-cased text contains one of the hint substrings."""
    return any(hint in lower_text for hint in hints)


# Short controls found in those boxes: a line equal to one of these is box furniture.
BOX_CONTROL: Final[re.Pattern[str]] = re.compile(
    r"^(?:ok(?:ay)?|accept|agree|i agree|got it|allow|allow all|deny|decline|reject|reject all|close|dismiss|settings"
    r"|manage (?:options|preferences|settings)|customi[sz]e|more info(?:rmation)?|learn more|no thanks|submit|send|go"
    r"|akzeptieren|zustimmen|ablehnen|einstellungen|schließen|verstanden|einverstanden|absenden|senden"
    r"|aceptar|rechazar|configurar|cerrar|entendido|enviar|accepter|refuser|fermer|paramètres|accetta|rifiuta|chiudi"
    r"|принять|отклонить|закрыть|настройки|согласен|хорошо|отправить|同意|拒绝|关闭)\s*[.!]?$",
    _I,
)

# --- footer ----------------------------------------------------------------------------------
FOOTER: Final[re.Pattern[str]] = re.compile(
    r"^(?:.{0,60}(?:©|\(c\)\s*\d{4}|copyright\b).{0,160}"
    r"|.{0,80}(?:all rights reserved|alle rechte vorbehalten|todos los derechos reservados|tous droits réservés"
    r"|tutti i diritti riservati|todos os direitos reservados|alle rechten voorbehouden|все права защищены|版权所有).{0,80}"
    r"|(?:privacy(?: policy| notice)?|terms(?: of (?:use|service))?|terms (?:and|&) conditions|imprint|impressum|legal notice|legal"
    r"|disclaimer|sitemap|site map|contact(?: us)?|about(?: us)?|advertise(?: with us)?|careers|jobs|faq|help|accessibility"
    r"|datenschutz(?:erklärung|hinweise)?|nutzungsbedingungen|agb|kontakt|über uns|mediadaten|barrierefreiheit"
    r"|aviso legal|política de privacidad|política de cookies|contacto|quiénes somos|mentions légales|politique de confidentialité"
    r"|nous contacter|note legali|contatti|chi siamo|privacybeleid|политика конфиденциальности|контакты|о нас|реклама"
    r"|пользовательское соглашение|карта сайта|联系我们|关于我们|隐私政策)"
    r"(?:\s*[|•·/,]\s*.{1,40}){0,12}"
    r")$",
    _I,
)

# --- comments --------------------------------------------------------------------------------
COMMENTS_HEADING: Final[re.Pattern[str]] = re.compile(
    r"^(?:\d+\s+)?(?:comments?|responses?|replies|reactions|thoughts? on\b.{0,120}|discussion|leave a (?:reply|comment)"
    r"|post a comment|add a comment|write a comment|join the (?:discussion|conversation)|one (?:comment|response|thought)"
    r"|kommentare?|kommentar schreiben|kommentar verfassen|schreibe einen kommentar|diskussion|leserkommentare"
    r"|comentarios?|deja un comentario|dejar un comentario|escribe un comentario|respuestas?"
    r"|commentaires?|laisser un commentaire|laisser une réponse|commenti|lascia un commento|lascia un commento"
    r"|comentários|deixe um comentário|reacties|reactie plaatsen|комментари\w*|оставить комментарий|добавить комментарий"
    r"|обсуждение|отзывы|评论|发表评论|留言)\s*(?:\(\d+\)|\d+)?\s*[:.]?$",
    _I,
)
COMMENT_ACTION: Final[re.Pattern[str]] = re.compile(
    r"^(?:reply|report|flag|like|upvote|downvote|quote|permalink|antworten|melden|zitieren|responder|denunciar"
    r"|répondre|signaler|rispondi|responder|beantwoorden|ответить|пожаловаться|回复|举报)\s*[↓↑]?$"
    r"|^(?:log in|sign in|anmelden|einloggen|inicia sesión|connectez-vous|войдите)\b.{0,40}(?:to|um|para|pour|чтобы)\b.{0,40}$",
    _I,
)

# --- navigation ------------------------------------------------------------------------------
NAVIGATION: Final[re.Pattern[str]] = re.compile(
    r"^(?:home|homepage|menu|main menu|navigation|skip to (?:main )?content|skip to navigation|jump to|toggle navigation"
    r"|search|search for|log ?in|sign ?in|sign ?up|register|log ?out|my account|account|cart|shopping cart|back to top"
    r"|go to top|top|close|open menu|close menu|toggle|submenu|more|next|previous|prev|back|sections|topics|categories"
    r"|archives?|blogroll|meta|entries feed|comments feed|wordpress\.org|powered by.{0,40}"
    r"|startseite|hauptmenü|menü|navigation|zum inhalt springen|zur navigation|direkt zum inhalt|springe zum inhalt|suche|suchen"
    r"|anmelden|abmelden|registrieren|mein konto|warenkorb|nach oben|zurück|weiter|mehr|rubriken|themen|kategorien|archiv"
    r"|inicio|menú|buscar|búsqueda|iniciar sesión|registrarse|mi cuenta|volver arriba|siguiente|anterior|categorías|ir al contenido"
    r"|accueil|rechercher|recherche|connexion|se connecter|mon compte|retour en haut|suivant|précédent|catégories|aller au contenu"
    r"|cerca|accedi|registrati|successivo|precedente|categorie|início|pesquisar|entrar"
    r"|главная|меню|поиск|найти|войти|вход|регистрация|выход|наверх|назад|далее|вперёд|рубрики|разделы|категории|архив"
    r"|首页|菜单|搜索|登录|注册|返回顶部|上一篇|下一篇)\s*[:»›>]?$",
    _I,
)
TAXONOMY: Final[re.Pattern[str]] = re.compile(
    r"^(?:tags?|tagged(?: with)?|tagged in|keywords|topics|filed under|posted in|categories|category|categor[ií]as?"
    r"|schlagw(?:ö|o)rte?r?|stichw(?:ö|o)rte?r?|kategorien?|themen|abgelegt unter|veröffentlicht in|etiquetas?|archivado en"
    r"|étiquettes?|mots[- ]clés|catégories?|parole chiave|argomenti|темы|теги|метки|рубрик[аи]|ключевые слова|标签|分类)"
    r"\s*[:：]\s*.{0,400}$",
    _I,
)
PAGINATION: Final[re.Pattern[str]] = re.compile(
    r"^(?:[«‹←<]\s*)?(?:next|previous|prev|older|newer)(?:\s+(?:post|posts|article|entries|page|story))?\s*[»›→>]?.{0,0}$"
    r"|^(?:[«‹←<]\s*)?(?:nächster?|vorheriger?|ältere|neuere)(?:\s+(?:beitrag|artikel|einträge|seite))?\s*[»›→>]?$"
    r"|^(?:[«‹←<]\s*)?(?:entrada|artículo|página)\s+(?:anterior|siguiente)\s*[»›→>]?$"
    r"|^(?:[«‹←<]\s*)?(?:article|page)\s+(?:précédent|suivant)e?\s*[»›→>]?$"
    r"|^(?:[«‹←<]\s*)?(?:предыдущая|следующая)\s+(?:статья|запись|страница)\s*[»›→>]?$"
    r"|^(?:page|seite|página|страница)\s+\d+\s+(?:of|von|de|из)\s+\d+$"
    r"|^(?:\d+\s*){2,}(?:…|\.\.\.)?\s*(?:\d+\s*)*[»›>]?$",
    _I,
)
LINK_SEPARATORS: Final[str] = "|»›•·/>→"

# --- function words --------------------------------------------------------------------------
# ~25-60 of the most frequent function words per language: enough to tell prose from link text.
STOPWORDS: Final[frozenset[str]] = frozenset(
    (  # noqa: SIM905 (one word list per language reads best)
        # English
        "the a an and or but of to in on at for with from by as is are was were be been being it its this that"
        " these those he she they we you i his her their our your not no have has had do does did will would can"
        " could should may might there which who what when where how than then so if about into over after also"
        " more most such only very just all any some one"
        # German
        " der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine ist sind war waren"
        " sein hat haben hatte wird werden wurde wurden mit von zu zum zur im in am an auf aus bei nach für über unter"
        " vor durch als wie auch noch schon nur sich sie er es wir ihr ich man dass daß wenn weil so dann doch mehr"
        " diese dieser dieses diesem auch sehr bis um hier dort was wer kann können soll sollen muss müssen"
        # Spanish
        " el la los las un una unos unas y o pero de del al en con por para sin sobre entre es son fue fueron ser está"
        " están era han ha había se su sus lo le les que como más muy también ya porque cuando donde este esta estos"
        " estas ese esa hay pueden puede"
        # French
        " le les une des du et ou mais dans sur pour par avec sans est sont était été être avoir ont qui que quoi"
        " ce cette ces il elle ils elles nous vous je ne pas plus aussi comme leur leurs son sa ses au aux se"
        # Italian / Portuguese / Dutch
        " il lo gli della delle dei nel nella che non per con una sono è anche come più ma"
        " o os as um uma do da dos das no na nos nas em com não são foi mais também"
        " de het een en van in op te dat die niet met voor zijn is was er aan ook als bij worden wordt"
        # Russian
        " и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее её мне было вот"
        " от меня еще ещё нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был была были него до вас"
        " нибудь опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем сам"
        " без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом"
        " это эти при также который которые которая"
        # Polish / Turkish (a few)
        " się nie jest na do że w z i o to jak ale ve bir bu da de ile için"
    ).split()
)

# --- helpers ---------------------------------------------------------------------------------


def byline_names(line: str) -> list[str] | None:
    """The names of a byline ("By Jane Doe and John Roe" -> ["Jane Doe", "John Roe"]), else None."""
    match = BYLINE.match(line.strip())
    if match is None:
        return None
    names = re.split(r"\s*(?:,|&|\band\b|\bund\b|\by\b|\bet\b|\be\b|\bи\b)\s*", match.group("names"))
    return [name.strip() for name in names if name.strip()] or None


def looks_like_byline(text: str) -> bool:
    """No sentence punctuation before its end: "By the way, it rained. ..." is prose."""
    return not re.search(r"[.!?]\s+\S", text)
