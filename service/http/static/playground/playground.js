/*
 * pagecleaner playground: send a page to POST /v1/extract and show what came out.
 *
 * Plain browser JavaScript, no framework and no build step. Nothing from the input or the
 * answer is ever assigned to innerHTML: every string goes into the page through textContent or
 * text nodes, and HTML input is only parsed by DOMParser into an inert document (no scripts run,
 * nothing is fetched) to derive its visible text.
 */
"use strict";

(() => {
  const ENDPOINT = "v1/extract";
  const EXAMPLE_URL = "playground/example";
  const OUTPUT_FORMATS = "text,markdown";
  const BOOLEAN_OPTIONS = ["comments", "tables", "images", "links"];
  const HTML_CONTENT_TYPE = "text/html";
  const TEXT_CONTENT_TYPE = "text/plain";
  const UTF8_SUFFIX = "; charset=utf-8";
  const SNIFF_BYTES = 4096;
  const MAX_LINES_SHOWN = 5000;
  const MAX_QUOTE_DEPTH = 8;
  const MAX_INLINE_DEPTH = 6;
  const KB = 1024;
  const EMPTY_VALUE = "—";

  const HTML_FILE_NAME = /\.(?:x?html?|xht|php|aspx?)$/i;
  const TEXT_FILE_NAME = /\.(?:txt|text|md|markdown)$/i;
  const HTML_FILE_TYPES = new Set(["text/html", "application/xhtml+xml"]);
  const DOCUMENT_START = /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|\?xml)/i;
  const HTML_TAG =
    /<\/?(?:p|div|span|a|article|section|main|header|footer|nav|aside|h[1-6]|ul|ol|li|table|tr|td|br|img|meta|title|script|style|link)\b[^>]*>/i;
  // Mirrors the server's word count (service/pipeline/serialize.py): one word per CJK character.
  const WORDS = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;
  const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;
  const SAFE_LINK = /^(?:https?:|mailto:)/i;

  // Elements whose text is never shown by a browser (or never by a cleaner).
  const SKIPPED_TAGS = new Set([
    "script", "style", "noscript", "template", "head", "title", "meta", "link", "svg", "math",
    "iframe", "object", "embed", "canvas", "audio", "video", "select", "option", "textarea",
  ]);
  // Elements that start a new line of visible text.
  const BLOCK_TAGS = new Set([
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "thead", "tfoot", "tr", "ul", "center",
  ]);
  const CELL_TAGS = new Set(["td", "th"]);
  // Under this page's CSP, Chromium reports (and blocks) every inline style and event handler
  // even in an inert parsed document. A small scanner following the HTML tokenizer's rules for
  // tags renames those attributes and drops <style> elements before parsing, so that a pasted
  // page does not fill the console. None of them would run anyway.
  const RAW_TEXT_TAGS = new Set(["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"]);
  const DROPPED_TAGS = new Set(["style"]);
  const SPACE = /\s/;
  const TAG_NAME_END = /[\s/>]/;
  const ATTRIBUTE_NAME_END = /[\s/>=]/;
  const UNQUOTED_VALUE_END = /[\s>]/;
  const ASCII_LETTER = /[a-zA-Z]/;
  const RENAMED_PREFIX = "data-inert-";

  const METADATA_FIELDS = [
    ["title", "Title"],
    ["authors", "Authors"],
    ["date", "Date"],
    ["sitename", "Site name"],
    ["hostname", "Host name"],
    ["url", "URL"],
    ["language", "Language"],
    ["description", "Description"],
    ["categories", "Categories"],
    ["tags", "Tags"],
    ["image", "Image"],
    ["word_count", "Word count"],
    ["warnings", "Warnings"],
    ["timing_ms", "Time (ms)"],
  ];

  // Markdown (the subset trafilatura writes): fenced code, headings, rules, quotes, tables, lists.
  const FENCE = /^\s{0,3}(`{3,}|~{3,})/;
  const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
  const RULE = /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/;
  const QUOTE = /^\s{0,3}>\s?/;
  const TABLE_ROW = /^\s*\|.*\|\s*$/;
  const TABLE_SEPARATOR = /^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?\s*)?$/;
  const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  const INLINE =
    /`(?<code>[^`\n]+)`|!\[(?<imgAlt>[^\]\n]*)\]\((?:<(?<imgSrc2>[^>\n]*)>|(?<imgSrc>[^)\s]*))(?:\s+"[^"\n]*")?\)|\[(?<linkText>[^\]\n]+)\]\((?:<(?<linkHref2>[^>\n]*)>|(?<linkHref>[^)\s]*))(?:\s+"[^"\n]*")?\)|\*\*(?<strong>[^\n]+?)\*\*|__(?<strong2>[^\n]+?)__|\*(?<em>[^*\s](?:[^*\n]*[^*\s])?)\*|(?<![\p{L}\p{N}])_(?<em2>[^_\s](?:[^_\n]*[^_\s])?)_(?![\p{L}\p{N}])|\\(?<escaped>[!-/:-@[-`{-~])/gu;

  const SELECTOR_OPTIONS = ["include", "exclude"];
  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("clean-form"),
    source: $("source"),
    dropZone: $("drop-zone"),
    file: $("file"),
    fileInfo: $("file-info"),
    fileName: $("file-name"),
    fileClear: $("file-clear"),
    favor: $("favor"),
    clean: $("clean"),
    loadExample: $("load-example"),
    clear: $("clear"),
    status: $("status"),
    error: $("error"),
    errorTitle: $("error-title"),
    errorDetail: $("error-detail"),
    results: $("results"),
    summary: $("summary"),
    tabs: Array.from(document.querySelectorAll('[role="tab"]')),
    rendered: $("view-rendered"),
    text: $("view-text"),
    markdown: $("view-markdown"),
    commentsBlock: $("comments-block"),
    commentsText: $("comments-text"),
    inputLines: $("input-lines"),
    unmatched: $("unmatched"),
    unmatchedList: $("unmatched-list"),
    metaBody: $("meta-body"),
  };

  const state = {
    file: null, // the File to send as is, until the text box is edited
    controller: null, // AbortController of the request in flight
  };

  /* ---------- small helpers ---------- */

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function normalizeSpace(text) {
    return String(text).normalize("NFC").replace(/\s+/gu, " ").trim();
  }

  /** The words of ``text`` joined by single spaces: compares lines across formats (tables, lists). */
  function wordsOf(text) {
    return (String(text).normalize("NFC").match(WORDS) || []).join(" ");
  }

  function countWords(text) {
    return (String(text).match(WORDS) || []).length;
  }

  function formatBytes(size) {
    return size < KB ? `${size} B` : size < KB * KB ? `${(size / KB).toFixed(1)} KB` : `${(size / KB / KB).toFixed(1)} MB`;
  }

  function plural(count, word) {
    return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  }

  function looksLikeHtml(text) {
    return DOCUMENT_START.test(text) || HTML_TAG.test(text);
  }

  function selectedMode() {
    const checked = ui.form.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "auto";
  }

  /* ---------- status and errors ---------- */

  function setStatus(message) {
    ui.status.textContent = message;
  }

  function showError(title, detail) {
    ui.errorTitle.textContent = title;
    ui.errorDetail.textContent = detail || "";
    ui.errorDetail.hidden = !detail;
    ui.error.hidden = false;
  }

  function hideError() {
    ui.error.hidden = true;
    ui.errorTitle.textContent = "";
    ui.errorDetail.textContent = "";
  }

  /** A readable message from an error response: problem+json title/detail, else the status. */
  async function showProblem(response) {
    let problem = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
    }
    const title = (problem && typeof problem.title === "string" && problem.title) || response.statusText || "Request failed";
    let detail = problem && typeof problem.detail === "string" && problem.detail !== title ? problem.detail : "";
    const retry = response.headers.get("Retry-After");
    if (retry) detail = `${detail} Try again in ${retry} s.`.trim();
    showError(`${response.status} · ${title}`, detail);
    setStatus(`Failed with HTTP ${response.status}${problem && problem.code ? ` (${problem.code})` : ""}.`);
  }

  /* ---------- input: files, drag and drop ---------- */

  async function useFile(file) {
    if (!file) return;
    state.file = file;
    ui.fileName.textContent = `${file.name || "file"} · ${formatBytes(file.size)}`;
    ui.fileInfo.hidden = false;
    const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
    if (head.includes(0)) {
      ui.source.value = "";
      ui.source.placeholder = `Binary file ${file.name}: it is sent as is.`;
    } else {
      ui.source.value = await file.text();
    }
    await clean();
  }

  function forgetFile() {
    state.file = null;
    ui.fileInfo.hidden = true;
    ui.fileName.textContent = "";
    ui.source.placeholder = "Paste HTML or text here, or drop a file onto this box.";
  }

  function hasFiles(event) {
    return Boolean(event.dataTransfer) && Array.from(event.dataTransfer.types || []).includes("Files");
  }

  function wireDragAndDrop() {
    ui.dropZone.addEventListener("dragenter", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      ui.dropZone.classList.add("dragging");
    });
    ui.dropZone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    ui.dropZone.addEventListener("dragleave", (event) => {
      if (!ui.dropZone.contains(event.relatedTarget)) ui.dropZone.classList.remove("dragging");
    });
    ui.dropZone.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      ui.dropZone.classList.remove("dragging");
      useFile(event.dataTransfer.files[0]);
    });
    // A file dropped next to the box must not make the browser navigate away from the page.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        if (hasFiles(event)) event.preventDefault();
      });
    }
  }

  /* ---------- the request ---------- */

  async function chooseContentType(inputText) {
    const mode = selectedMode();
    if (mode === "html") return HTML_CONTENT_TYPE;
    if (mode === "text") return TEXT_CONTENT_TYPE;
    const file = state.file;
    if (file) {
      if (HTML_FILE_TYPES.has(file.type) || HTML_FILE_NAME.test(file.name)) return HTML_CONTENT_TYPE;
      if (file.type === TEXT_CONTENT_TYPE || TEXT_FILE_NAME.test(file.name)) return TEXT_CONTENT_TYPE;
      const head = await file.slice(0, SNIFF_BYTES).text();
      return looksLikeHtml(head) ? HTML_CONTENT_TYPE : TEXT_CONTENT_TYPE;
    }
    return looksLikeHtml(inputText) ? HTML_CONTENT_TYPE : TEXT_CONTENT_TYPE;
  }

  function queryString() {
    const params = new URLSearchParams();
    params.set("format", OUTPUT_FORMATS);
    for (const name of BOOLEAN_OPTIONS) {
      params.set(name, ui.form.elements[name].checked ? "true" : "false");
    }
    params.set("favor", ui.favor.value);
    // One selector group each (a comma is part of CSS, so it stays in one parameter).
    for (const name of SELECTOR_OPTIONS) {
      const selector = ui.form.elements[name].value.trim();
      if (selector) params.set(name, selector);
    }
    params.set("explain", "true");
    return params.toString();
  }

  async function clean() {
    hideError();
    const inputText = ui.source.value;
    if (!state.file && !inputText.trim()) {
      showError("Nothing to clean", "Paste HTML or text into the box, drop a file, or press Load example.");
      setStatus("");
      ui.source.focus();
      return;
    }
    if (state.controller) state.controller.abort();
    const controller = new AbortController();
    state.controller = controller;
    const contentType = await chooseContentType(inputText);
    const body = state.file || inputText;
    const header = state.file ? contentType : contentType + UTF8_SUFFIX;
    ui.clean.disabled = true;
    ui.results.setAttribute("aria-busy", "true");
    setStatus(`Cleaning as ${contentType}…`);
    try {
      const response = await fetch(`${ENDPOINT}?${queryString()}`, {
        method: "POST",
        headers: { "Content-Type": header, Accept: "application/json" },
        body,
        signal: controller.signal,
      });
      if (!response.ok) {
        resetResults();
        await showProblem(response);
        return;
      }
      const answer = await response.json();
      render(answer, {
        inputText,
        isHtml: contentType === HTML_CONTENT_TYPE,
        contentType,
        cache: response.headers.get("X-Cache"),
      });
    } catch (error) {
      if (error && error.name === "AbortError") return;
      resetResults();
      showError("Could not reach the service", error && error.message ? error.message : String(error));
      setStatus("Failed.");
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        ui.clean.disabled = false;
        ui.results.removeAttribute("aria-busy");
      }
    }
  }

  async function loadExample() {
    hideError();
    try {
      const response = await fetch(EXAMPLE_URL, { headers: { Accept: "text/plain" } });
      if (!response.ok) {
        await showProblem(response);
        return;
      }
      forgetFile();
      ui.source.value = await response.text();
      ui.source.focus();
      ui.source.setSelectionRange(0, 0);
      ui.source.scrollTop = 0;
      setStatus("Example loaded: press Clean or Ctrl+Enter.");
    } catch (error) {
      showError("Could not load the example", error && error.message ? error.message : String(error));
    }
  }

  function clearAll() {
    if (state.controller) state.controller.abort();
    forgetFile();
    ui.source.value = "";
    hideError();
    resetResults();
    setStatus("");
    ui.source.focus();
  }

  /* ---------- results ---------- */

  function resetResults() {
    ui.summary.replaceChildren(
      el("p", "placeholder", "Results appear here: the clean article, its metadata and the input with every removed block highlighted."),
    );
    for (const view of [ui.rendered, ui.text, ui.markdown, ui.inputLines, ui.metaBody, ui.unmatchedList, ui.commentsText]) {
      view.replaceChildren();
    }
    ui.unmatched.hidden = true;
    ui.commentsBlock.hidden = true;
  }

  function render(answer, context) {
    const text = typeof answer.text === "string" ? answer.text : "";
    const markdown = typeof answer.markdown === "string" ? answer.markdown : text;
    const removed = Array.isArray(answer.removed) ? answer.removed : [];

    ui.text.textContent = text;
    ui.markdown.textContent = markdown;
    ui.rendered.replaceChildren(markdown.trim() ? renderMarkdown(markdown) : el("p", "empty", "Nothing was kept."));
    const comments = typeof answer.comments === "string" ? answer.comments : "";
    ui.commentsText.textContent = comments;
    ui.commentsBlock.hidden = !comments.trim();

    renderMetadata(answer);

    const lines = context.isHtml ? htmlToLines(context.inputText) : textToLines(context.inputText);
    const located = locateRemoved(lines, removed);
    renderLines(lines, located.highlights, ` ${wordsOf(`${text} ${comments}`)} `);
    ui.unmatchedList.replaceChildren(
      ...located.unmatched.map((item) => {
        const li = el("li", null, item.text);
        li.append(" ", reasonLabel(item.reason));
        return li;
      }),
    );
    ui.unmatched.hidden = located.unmatched.length === 0;

    const removedWords = removed.reduce((sum, item) => sum + countWords(item.text || ""), 0);
    const keptWords = Number.isInteger(answer.word_count) ? answer.word_count : countWords(text);
    ui.summary.replaceChildren(
      stat("kept", keptWords, "words kept"),
      stat("removed", removedWords, `words removed in ${plural(removed.length, "block")}`),
      el("p", "stat", `Sent as ${context.contentType} · ${answer.timing_ms ?? "?"} ms · cache ${context.cache || "n/a"}`),
    );
    setStatus(`Cleaned: ${plural(keptWords, "word")} kept, ${plural(removedWords, "word")} removed.`);
  }

  function stat(kind, value, label) {
    const node = el("p", `stat ${kind}`);
    node.dataset.testid = `${kind}-words`;
    node.append(el("strong", null, value.toLocaleString("en")), label);
    return node;
  }

  function renderMetadata(answer) {
    const rows = METADATA_FIELDS.map(([key, label]) => {
      const row = el("tr");
      row.dataset.field = key;
      const value = answer[key];
      const shown = Array.isArray(value) ? value.join(", ") : value;
      const cell = el("td");
      if (shown === null || shown === undefined || shown === "") {
        cell.textContent = EMPTY_VALUE;
        cell.className = "empty";
      } else {
        cell.textContent = String(shown);
      }
      row.append(el("th", null, label), cell);
      row.firstChild.setAttribute("scope", "row");
      return row;
    });
    ui.metaBody.replaceChildren(...rows);
  }

  /* ---------- the input as lines, and where each removed block was ---------- */

  function textToLines(text) {
    return text.split(/\r\n|\r|\n|\f/).map(normalizeSpace).filter(Boolean);
  }

  function isInlineAttribute(name) {
    const lower = name.toLowerCase();
    return lower.startsWith("on") || lower === "style";
  }

  /** ``html`` with inline event handlers and styles renamed and <style> elements dropped. */
  function neutralize(html) {
    const out = [];
    const length = html.length;
    let index = 0;
    while (index < length) {
      const open = html.indexOf("<", index);
      if (open === -1) {
        out.push(html.slice(index));
        break;
      }
      out.push(html.slice(index, open));
      if (html.startsWith("<!--", open)) {
        const close = html.indexOf("-->", open + 4);
        index = close === -1 ? length : close + 3;
        out.push(html.slice(open, index));
        continue;
      }
      if (!ASCII_LETTER.test(html.charAt(open + 1))) {
        out.push("<");
        index = open + 1;
        continue;
      }
      const tagStart = out.length;
      let cursor = open + 1;
      while (cursor < length && !TAG_NAME_END.test(html[cursor])) cursor += 1;
      const tag = html.slice(open + 1, cursor).toLowerCase();
      out.push(html.slice(open, cursor));
      while (cursor < length && html[cursor] !== ">") {
        if (SPACE.test(html[cursor]) || html[cursor] === "/") {
          out.push(html[cursor]);
          cursor += 1;
          continue;
        }
        let nameEnd = cursor + 1;
        while (nameEnd < length && !ATTRIBUTE_NAME_END.test(html[nameEnd])) nameEnd += 1;
        const name = html.slice(cursor, nameEnd);
        out.push(isInlineAttribute(name) ? RENAMED_PREFIX + name : name);
        cursor = nameEnd;
        let next = cursor;
        while (next < length && SPACE.test(html[next])) next += 1;
        if (html[next] !== "=") continue;
        next += 1;
        while (next < length && SPACE.test(html[next])) next += 1;
        const quote = html[next];
        let valueEnd = next;
        if (quote === '"' || quote === "'") {
          const close = html.indexOf(quote, next + 1);
          valueEnd = close === -1 ? length : close + 1;
        } else {
          while (valueEnd < length && !UNQUOTED_VALUE_END.test(html[valueEnd])) valueEnd += 1;
        }
        out.push(html.slice(cursor, valueEnd));
        cursor = valueEnd;
      }
      if (cursor < length) {
        out.push(">");
        cursor += 1;
      }
      index = cursor;
      if (RAW_TEXT_TAGS.has(tag)) {
        const endTag = new RegExp(`</${tag}[\\s/>]`, "gi");
        endTag.lastIndex = index;
        const found = endTag.exec(html);
        const contentEnd = found ? found.index : length;
        if (DROPPED_TAGS.has(tag)) {
          out.length = tagStart;
          const close = found ? html.indexOf(">", contentEnd) : -1;
          index = close === -1 ? length : close + 1;
        } else {
          out.push(html.slice(index, contentEnd));
          index = contentEnd;
        }
      }
    }
    return out.join("");
  }

  /**
   * The visible text of an HTML page, one line per block. DOMParser builds an inert document:
   * its scripts never run and nothing it references is fetched; it is never inserted in the page.
   */
  function htmlToLines(html) {
    const doc = new DOMParser().parseFromString(neutralize(html), "text/html");
    const lines = [];
    let buffer = [];
    const flush = () => {
      const line = normalizeSpace(buffer.join(""));
      if (line) lines.push(line);
      buffer = [];
    };
    if (!doc.body) return lines;
    const stack = [[doc.body, false]];
    while (stack.length) {
      const [node, leaving] = stack.pop();
      if (node.nodeType === Node.TEXT_NODE) {
        buffer.push(node.data);
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const tag = node.localName;
      if (SKIPPED_TAGS.has(tag)) continue;
      if (tag === "br") {
        flush();
        continue;
      }
      if (CELL_TAGS.has(tag)) buffer.push(" ");
      if (leaving) {
        if (BLOCK_TAGS.has(tag)) flush();
        continue;
      }
      if (BLOCK_TAGS.has(tag)) flush();
      stack.push([node, true]);
      const children = node.childNodes;
      for (let index = children.length - 1; index >= 0; index -= 1) stack.push([children[index], false]);
    }
    flush();
    return lines;
  }

  function overlaps(taken, start, end) {
    return taken.some(([s, e]) => start < e && s < end);
  }

  function atWordBoundary(haystack, start, end) {
    const before = start > 0 ? haystack[start - 1] : " ";
    const after = end < haystack.length ? haystack[end] : " ";
    return !WORD_CHAR.test(before) && !WORD_CHAR.test(after);
  }

  function findFree(haystack, needle, from, taken, wholeWord) {
    let position = haystack.indexOf(needle, from);
    while (position !== -1) {
      const end = position + needle.length;
      if (!overlaps(taken, position, end) && (!wholeWord || atWordBoundary(haystack, position, end))) {
        return position;
      }
      position = haystack.indexOf(needle, position + 1);
    }
    return -1;
  }

  /**
   * Find each removed block in the input lines, in order (the answer lists them in document
   * order, so a search starts where the previous block ended; repeated texts like "10 hours ago"
   * land on successive lines). A block may span several lines or be part of one.
   */
  function locateRemoved(lines, removed) {
    const flat = lines.join(" ");
    const lower = flat.toLowerCase();
    const folded = lower.length === flat.length ? lower : null;
    const starts = [];
    let offset = 0;
    for (const line of lines) {
      starts.push(offset);
      offset += line.length + 1;
    }
    const taken = [];
    const highlights = new Map();
    const unmatched = [];
    let cursor = 0;
    for (const item of removed) {
      const needle = normalizeSpace(item && item.text ? item.text : "");
      const reason = item && item.reason ? String(item.reason) : "removed";
      if (!needle) continue;
      let position = -1;
      const attempts = [
        [flat, needle, cursor, true],
        [flat, needle, 0, true],
        [flat, needle, cursor, false],
        [flat, needle, 0, false],
      ];
      if (folded) attempts.push([folded, needle.toLowerCase(), cursor, false], [folded, needle.toLowerCase(), 0, false]);
      for (const [haystack, wanted, from, wholeWord] of attempts) {
        if (wanted.length !== needle.length) continue;
        position = findFree(haystack, wanted, from, taken, wholeWord);
        if (position !== -1) break;
      }
      if (position === -1) {
        unmatched.push({ text: needle, reason });
        continue;
      }
      const end = position + needle.length;
      taken.push([position, end]);
      cursor = end;
      let lastLine = -1;
      for (let index = 0; index < lines.length; index += 1) {
        const lineStart = starts[index];
        const lineEnd = lineStart + lines[index].length;
        if (lineEnd <= position) continue;
        if (lineStart >= end) break;
        const range = { start: Math.max(position, lineStart) - lineStart, end: Math.min(end, lineEnd) - lineStart, reason, label: false };
        if (range.end > range.start) {
          if (!highlights.has(index)) highlights.set(index, []);
          highlights.get(index).push(range);
          lastLine = index;
        }
      }
      if (lastLine !== -1) highlights.get(lastLine).at(-1).label = true;
    }
    return { highlights, unmatched };
  }

  function reasonLabel(reason) {
    const label = el("span", "reason", reason);
    label.title = `Removed: ${reason}`;
    return label;
  }

  /** ``cleanedWords``: the kept text as ``wordsOf`` gives it, padded with a space at both ends. */
  function renderLines(lines, highlights, cleanedWords) {
    const items = [];
    const shown = Math.min(lines.length, MAX_LINES_SHOWN);
    for (let index = 0; index < shown; index += 1) {
      const line = lines[index];
      const li = el("li");
      const ranges = (highlights.get(index) || []).sort((a, b) => a.start - b.start);
      if (ranges.length) {
        li.className = "has-removed";
        li.dataset.reason = Array.from(new Set(ranges.map((range) => range.reason))).join(" ");
        let last = 0;
        for (const range of ranges) {
          if (range.start > last) li.append(line.slice(last, range.start));
          const mark = el("mark", "removed", line.slice(range.start, range.end));
          mark.title = `Removed: ${range.reason}`;
          mark.dataset.reason = range.reason;
          li.append(mark);
          if (range.label) li.append(reasonLabel(range.reason));
          last = range.end;
        }
        if (last < line.length) li.append(line.slice(last));
      } else {
        li.textContent = line;
        const words = wordsOf(line);
        if (words && cleanedWords.includes(` ${words} `)) li.className = "kept";
      }
      items.push(li);
    }
    if (lines.length > shown) items.push(el("li", "more", `… ${plural(lines.length - shown, "more line")} not shown`));
    if (!lines.length) items.push(el("li", "more", "The input has no visible text."));
    ui.inputLines.replaceChildren(...items);
  }

  /* ---------- a small, safe Markdown renderer (DOM nodes only, never innerHTML) ---------- */

  function safeLink(url) {
    const trimmed = String(url || "").trim();
    if (!SAFE_LINK.test(trimmed)) return null;
    try {
      return new URL(trimmed).href;
    } catch {
      return null;
    }
  }

  function appendInline(parent, text, depth = 0) {
    if (depth > MAX_INLINE_DEPTH) {
      parent.append(text);
      return;
    }
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      last = match.index + match[0].length;
      const groups = match.groups;
      if (groups.code !== undefined) {
        parent.append(el("code", null, groups.code));
      } else if (groups.imgSrc !== undefined || groups.imgSrc2 !== undefined) {
        const label = `[image${groups.imgAlt ? `: ${groups.imgAlt}` : ""}]`;
        const href = safeLink(groups.imgSrc ?? groups.imgSrc2);
        const node = el(href ? "a" : "span", "image-ref", label);
        if (href) setLink(node, href);
        parent.append(node);
      } else if (groups.linkText !== undefined) {
        const target = groups.linkHref ?? groups.linkHref2;
        const href = safeLink(target);
        const node = el(href ? "a" : "span");
        if (href) setLink(node, href);
        else node.title = `Link not followed: ${target}`;
        appendInline(node, groups.linkText, depth + 1);
        parent.append(node);
      } else if (groups.strong !== undefined || groups.strong2 !== undefined) {
        const node = el("strong");
        appendInline(node, groups.strong ?? groups.strong2, depth + 1);
        parent.append(node);
      } else if (groups.em !== undefined || groups.em2 !== undefined) {
        const node = el("em");
        appendInline(node, groups.em ?? groups.em2, depth + 1);
        parent.append(node);
      } else if (groups.escaped !== undefined) {
        parent.append(groups.escaped);
      }
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function setLink(anchor, href) {
    anchor.href = href;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer nofollow";
  }

  function inlineLines(parent, lines) {
    lines.forEach((line, index) => {
      if (index) parent.append(el("br"));
      appendInline(parent, line.trim());
    });
  }

  function splitRow(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((cell) => cell.trim());
  }

  function renderTable(rows) {
    const table = el("table");
    let body = rows;
    if (rows.length > 1 && TABLE_SEPARATOR.test(rows[1])) {
      const head = el("thead");
      const tr = el("tr");
      for (const cell of splitRow(rows[0])) {
        const th = el("th");
        appendInline(th, cell);
        tr.append(th);
      }
      head.append(tr);
      table.append(head);
      body = rows.slice(2);
    }
    const tbody = el("tbody");
    for (const row of body) {
      if (TABLE_SEPARATOR.test(row)) continue;
      const tr = el("tr");
      for (const cell of splitRow(row)) {
        const td = el("td");
        appendInline(td, cell);
        tr.append(td);
      }
      tbody.append(tr);
    }
    table.append(tbody);
    return table;
  }

  function markerKind(marker) {
    return marker.replace(/\d+/, "1");
  }

  function startsBlock(line) {
    return FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) || TABLE_ROW.test(line) || LIST_ITEM.test(line);
  }

  function renderMarkdown(markdown, depth = 0) {
    const fragment = document.createDocumentFragment();
    const lines = markdown.replace(/\r\n?/g, "\n").split("\n");
    let index = 0;
    while (index < lines.length) {
      const line = lines[index];
      if (!line.trim()) {
        index += 1;
        continue;
      }
      const fence = line.match(FENCE);
      if (fence) {
        const code = [];
        index += 1;
        while (index < lines.length && !lines[index].trim().startsWith(fence[1])) {
          code.push(lines[index]);
          index += 1;
        }
        index += 1;
        const pre = el("pre");
        pre.append(el("code", null, code.join("\n")));
        fragment.append(pre);
        continue;
      }
      const heading = line.match(HEADING);
      if (heading) {
        const node = el(`h${heading[1].length}`);
        appendInline(node, heading[2]);
        fragment.append(node);
        index += 1;
        continue;
      }
      if (RULE.test(line)) {
        fragment.append(el("hr"));
        index += 1;
        continue;
      }
      if (QUOTE.test(line)) {
        const quoted = [];
        while (index < lines.length && QUOTE.test(lines[index])) {
          quoted.push(lines[index].replace(QUOTE, ""));
          index += 1;
        }
        const quote = el("blockquote");
        if (depth < MAX_QUOTE_DEPTH) quote.append(renderMarkdown(quoted.join("\n"), depth + 1));
        else inlineLines(quote, quoted);
        fragment.append(quote);
        continue;
      }
      if (TABLE_ROW.test(line)) {
        const rows = [];
        while (index < lines.length && TABLE_ROW.test(lines[index])) {
          rows.push(lines[index]);
          index += 1;
        }
        fragment.append(renderTable(rows));
        continue;
      }
      const item = line.match(LIST_ITEM);
      if (item) {
        // A list goes on while its items keep one marker ("-", "*", "1.", "1)"): the service writes
        // two lists in a row with different markers, and a numbered list from its start.
        const kind = markerKind(item[2]);
        const ordered = /\d/.test(item[2]);
        const list = el(ordered ? "ol" : "ul");
        if (ordered && parseInt(item[2], 10) !== 1) list.start = parseInt(item[2], 10);
        while (index < lines.length) {
          const current = lines[index].match(LIST_ITEM);
          if (!current || markerKind(current[2]) !== kind) break;
          const li = el("li");
          appendInline(li, current[3]);
          list.append(li);
          index += 1;
        }
        fragment.append(list);
        continue;
      }
      const paragraph = [];
      while (index < lines.length && lines[index].trim() && (paragraph.length === 0 || !startsBlock(lines[index]))) {
        paragraph.push(lines[index]);
        index += 1;
      }
      const p = el("p");
      inlineLines(p, paragraph);
      fragment.append(p);
    }
    return fragment;
  }

  /* ---------- tabs ---------- */

  function selectTab(tab, focus) {
    for (const other of ui.tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
  }

  function wireTabs() {
    ui.tabs.forEach((tab, position) => {
      tab.addEventListener("click", () => selectTab(tab, false));
      tab.addEventListener("keydown", (event) => {
        const last = ui.tabs.length - 1;
        const target = {
          ArrowRight: position === last ? 0 : position + 1,
          ArrowLeft: position === 0 ? last : position - 1,
          Home: 0,
          End: last,
        }[event.key];
        if (target === undefined) return;
        event.preventDefault();
        selectTab(ui.tabs[target], true);
      });
    });
  }

  /* ---------- wiring ---------- */

  function start() {
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      clean();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        clean();
      }
    });
    ui.source.addEventListener("input", () => {
      if (state.file) forgetFile();
    });
    ui.file.addEventListener("change", () => {
      const file = ui.file.files && ui.file.files[0];
      ui.file.value = "";
      useFile(file);
    });
    ui.fileClear.addEventListener("click", () => {
      forgetFile();
      ui.source.focus();
    });
    ui.loadExample.addEventListener("click", loadExample);
    ui.clear.addEventListener("click", clearAll);
    wireDragAndDrop();
    wireTabs();
  }

  start();
})();
