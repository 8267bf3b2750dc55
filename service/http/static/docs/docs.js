// Renders the OpenAPI document embedded in /docs (element #spec). No network, no dependencies,
// no innerHTML: every string from the document is inserted as text.
"use strict";

(function () {
  const spec = JSON.parse(document.getElementById("spec").textContent);
  const schemas = (spec.components && spec.components.schemas) || {};
  const headers = (spec.components && spec.components.headers) || {};

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // `code` spans in descriptions become <code>; everything else stays text.
  function prose(text) {
    const out = el("span");
    String(text || "").split("`").forEach((part, i) => out.append(i % 2 ? el("code", {}, part) : part));
    return out;
  }

  function refName(ref) {
    return ref.split("/").pop();
  }

  function resolve(item, kind) {
    if (item && item.$ref) {
      const table = kind === "header" ? headers : schemas;
      return table[refName(item.$ref)] || {};
    }
    return item || {};
  }

  function anchor(text) {
    return text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase();
  }

  // A compact, readable rendering of a JSON schema: refs become links to the schema section.
  function schemaView(schema) {
    if (!schema) return el("span");
    if (schema.$ref) {
      const name = refName(schema.$ref);
      return el("a", { href: "#schema-" + anchor(name), class: "schema-name" }, name);
    }
    return el("pre", {}, JSON.stringify(schema, null, 2));
  }

  function operationId(path, method) {
    return "op-" + anchor(method + " " + path);
  }

  function renderParameters(params) {
    if (!params || !params.length) return null;
    const table = el("table", {}, el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "schema"),
      el("th", {}, "description")));
    for (const p of params) {
      const schema = Object.assign({}, p.schema);
      table.append(el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
        el("td", {}, el("code", {}, JSON.stringify(schema))), el("td", {}, prose(p.description))));
    }
    return el("div", {}, el("h3", {}, "Query parameters"), table);
  }

  function renderBody(body) {
    if (!body) return null;
    const box = el("div", {}, el("h3", {}, "Request body"));
    for (const [type, media] of Object.entries(body.content || {})) {
      const line = el("div", {}, el("code", {}, type), " ");
      line.append(schemaView(media.schema));
      if (media["x-item-schema"]) line.append(" — one line each: ", schemaView(media["x-item-schema"]));
      box.append(line);
    }
    return box;
  }

  function renderResponses(responses) {
    const table = el("table", {}, el("tr", {}, el("th", {}, "status"), el("th", {}, "description"),
      el("th", {}, "content"), el("th", {}, "headers")));
    for (const [status, response] of Object.entries(responses || {})) {
      const content = el("td");
      for (const [type, media] of Object.entries(response.content || {})) {
        const item = el("details", {}, el("summary", {}, type));
        item.append(schemaView(media.schema));
        if (media["x-item-schema"]) item.append(el("div", {}, "each line: "), schemaView(media["x-item-schema"]));
        content.append(item);
      }
      const names = Object.keys(response.headers || {}).map((name) => {
        const header = resolve(response.headers[name], "header");
        return name + (header.required ? "" : " (optional)");
      });
      table.append(el("tr", {}, el("td", { class: "status" + (Number(status) >= 400 ? " error" : "") }, status),
        el("td", {}, prose(response.description)), content, el("td", {}, names.join(", "))));
    }
    return el("div", {}, el("h3", {}, "Responses"), table);
  }

  function render() {
    const info = spec.info || {};
    document.getElementById("title").textContent = (info.title || "API") + " " + (info.version || "");
    const summary = document.getElementById("summary");
    summary.replaceChildren(prose((info.summary || "") + " " + (info.description || "")));

    const tocList = el("ul");
    const main = document.getElementById("content");
    main.replaceChildren();
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const [method, op] of Object.entries(item)) {
        const id = operationId(path, method);
        tocList.append(el("li", {}, el("a", { href: "#" + id }, method.toUpperCase() + " " + path)));
        const open = Array.isArray(op.security) && op.security.length === 0;
        const section = el("section", { class: "op", id: id },
          el("h2", {}, el("span", { class: "method " + method }, method), el("span", { class: "path" }, path),
            el("span", { class: "summary" }, op.summary || ""),
            el("span", { class: "lock" }, open ? "public" : "API key if configured")));
        if (op.description) section.append(el("p", {}, prose(op.description)));
        section.append(renderParameters(op.parameters) || "", renderBody(op.requestBody) || "",
          renderResponses(op.responses));
        main.append(section);
      }
    }
    document.getElementById("toc").replaceChildren(el("strong", {}, "Operations"), tocList);

    const schemaSection = el("section", { class: "op", id: "schemas" }, el("h2", {}, "Schemas"));
    for (const [name, schema] of Object.entries(schemas)) {
      schemaSection.append(el("details", { id: "schema-" + anchor(name) },
        el("summary", { class: "schema-name" }, name), el("pre", {}, JSON.stringify(schema, null, 2))));
    }
    main.append(schemaSection);
  }

  render();
})();
