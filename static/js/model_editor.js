// The model editor: the SQL textarea made a CodeMirror 6 editor (static/vendor/codemirror, one global,
// SynclineCodeMirror), and the schema browser beside it (its list comes from the server by htmx:
// templates/models/catalog.html). Without this file, or without JavaScript, the textarea is the editor and
// the browser is a link to the source's tables.
//
// The editor lives in a shadow root: CodeMirror writes its styles into a stylesheet of the root it is given,
// and a document's own <style> element is what the Content-Security-Policy refuses; a shadow root takes a
// constructed stylesheet instead, which the policy allows.
(function () {
  "use strict";

  var CM = window.SynclineCodeMirror;
  var field = document.querySelector(".sql-field");
  var textarea = field && field.querySelector("textarea");
  var sourceSelect = document.getElementById("id_source");
  var search = document.getElementById("catalog-search");
  var sourceTypes = field ? JSON.parse(field.getAttribute("data-source-types") || "{}") : {};
  var editor = null;

  // --- the SQL editor -------------------------------------------------------------------------------

  function dialectOf(type) {
    if (!CM) return null;
    if (type === "mysql") return CM.MySQL;
    if (type === "snowflake" || type === "bigquery") return CM.StandardSQL;
    return CM.PostgreSQL; // PostgreSQL, Redshift, DuckDB (its grammar) and Google Sheets (run by DuckDB)
  }

  function makeEditor() {
    // A model that reads a dbt model shows its SQL disabled: the plain textarea says so best.
    if (!CM || !textarea || textarea.disabled) return null;
    var label = document.querySelector('label[for="' + textarea.id + '"]');
    var language = new CM.Compartment();
    var host = document.createElement("div");
    host.className = "sql-editor-host";
    textarea.parentNode.insertBefore(host, textarea.nextSibling);
    var root = host.attachShadow({ mode: "open" });
    var readOnly = textarea.readOnly;
    var contentAttributes = {
      "aria-label": (label ? label.textContent : "SQL").trim(),
      "aria-multiline": "true",
    };
    if (textarea.getAttribute("aria-invalid")) contentAttributes["aria-invalid"] = textarea.getAttribute("aria-invalid");
    var view = new CM.EditorView({
      root: root,
      parent: root,
      state: CM.EditorState.create({
        doc: textarea.value,
        extensions: [
          CM.lineNumbers(),
          CM.highlightActiveLineGutter(),
          CM.history(),
          CM.drawSelection(),
          CM.indentOnInput(),
          CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }),
          CM.bracketMatching(),
          CM.closeBrackets(),
          CM.autocompletion(),
          CM.highlightActiveLine(),
          // Tab is left to the browser (it moves the focus on): Escape then Tab is not needed to leave.
          CM.keymap.of([].concat(CM.closeBracketsKeymap, CM.defaultKeymap, CM.historyKeymap, CM.completionKeymap)),
          language.of(CM.sql({ dialect: dialectOf(sourceTypes[sourceSelect && sourceSelect.value]), upperCaseKeywords: true })),
          CM.EditorView.contentAttributes.of(contentAttributes),
          CM.EditorState.readOnly.of(readOnly),
          CM.EditorView.editable.of(!readOnly),
          CM.placeholder("SELECT … FROM …"),
          CM.EditorView.updateListener.of(function (update) {
            if (update.docChanged) textarea.value = update.state.doc.toString();
          }),
          CM.EditorView.theme({
            "&": { fontSize: ".9rem", backgroundColor: "#fff", maxHeight: "32rem" },
            "&.cm-focused": { outline: "none" },
            ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", overflow: "auto", lineHeight: "1.5" },
            ".cm-content, .cm-gutter": { minHeight: "14rem" },
            ".cm-gutters": { backgroundColor: "#f8fafc", color: "#6b7280", borderRight: "1px solid #e5e7eb" },
            ".cm-activeLine": { backgroundColor: "#f5f7ff" },
            ".cm-activeLineGutter": { backgroundColor: "#eef2ff" },
            ".cm-placeholder": { color: "#6b7280" },
          }),
        ],
      }),
    });
    // Help and errors keep describing the SQL (the ids live outside the shadow root: element references).
    var described = (textarea.getAttribute("aria-describedby") || "").split(/\s+/).map(function (id) {
      return id && document.getElementById(id);
    }).filter(Boolean);
    if (described.length && "ariaDescribedByElements" in view.contentDOM) view.contentDOM.ariaDescribedByElements = described;
    textarea.hidden = true;
    host.setAttribute("data-editor", "codemirror");
    if (label) label.addEventListener("click", function () { view.focus(); });
    // A reset of the form (or a page restored from the back-forward cache) puts the textarea's text back.
    textarea.form.addEventListener("reset", function () {
      setTimeout(function () { replaceAll(textarea.value); }, 0);
    });
    function replaceAll(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    }
    return {
      view: view,
      insert: function (text) {
        var range = view.state.selection.main;
        var before = view.state.sliceDoc(Math.max(0, range.from - 1), range.from);
        var spaced = before && !/[\s(,.]/.test(before) ? " " + text : text;
        view.dispatch({
          changes: { from: range.from, to: range.to, insert: spaced },
          selection: { anchor: range.from + spaced.length },
          scrollIntoView: true,
        });
        view.focus();
      },
      setSchema: function (schema, type) {
        view.dispatch({
          effects: language.reconfigure(CM.sql({ dialect: dialectOf(type), schema: schema, upperCaseKeywords: true })),
        });
      },
    };
  }

  // Without CodeMirror: insert into the textarea at its cursor.
  function insertIntoTextarea(text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var before = textarea.value.slice(Math.max(0, start - 1), start);
    var spaced = before && !/[\s(,.]/.test(before) ? " " + text : text;
    textarea.setRangeText(spaced, start, end, "end");
    textarea.focus();
  }

  // --- the schema browser -----------------------------------------------------------------------------

  function catalog() { return document.getElementById("catalog"); }

  // The loaded list as CodeMirror's completion schema: {schema: {table: [columns]}}.
  function completionSchema(list) {
    var schema = {};
    list.querySelectorAll(".catalog-table").forEach(function (table) {
      var columns = Array.prototype.map.call(table.querySelectorAll("[data-column]"), function (b) {
        return b.getAttribute("data-column");
      });
      var name = table.getAttribute("data-schema") || "";
      if (name) {
        schema[name] = schema[name] || {};
        schema[name][table.getAttribute("data-table")] = columns;
      } else {
        schema[table.getAttribute("data-table")] = columns;
      }
    });
    return schema;
  }

  function setExpanded(table, open) {
    var toggle = table.querySelector(".catalog-toggle");
    var columns = table.querySelector(".catalog-columns");
    if (!toggle || !columns) return;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    columns.hidden = !open;
  }

  // Keeps the schemas, tables and columns whose name contains the search; a table found by a column opens.
  function filter(list, text) {
    var words = text.toLowerCase().trim();
    var shown = 0;
    list.querySelectorAll(".catalog-schema").forEach(function (schema) {
      var schemaHit = !words || schema.getAttribute("data-name").indexOf(words) !== -1;
      var tablesShown = 0;
      schema.querySelectorAll(".catalog-table").forEach(function (table) {
        var tableHit = schemaHit || table.getAttribute("data-name").indexOf(words) !== -1;
        var columnHits = 0;
        table.querySelectorAll(".catalog-columns > li").forEach(function (column) {
          var hit = tableHit || column.getAttribute("data-name").indexOf(words) !== -1;
          column.hidden = !hit;
          if (hit && !tableHit) columnHits++;
        });
        table.hidden = !(tableHit || columnHits);
        if (words) setExpanded(table, columnHits > 0);
        if (!table.hidden) tablesShown++;
      });
      schema.hidden = tablesShown === 0;
      shown += tablesShown;
    });
    var none = list.querySelector(".catalog-none");
    if (!none) {
      none = document.createElement("p");
      none.className = "muted catalog-none";
      list.appendChild(none);
    }
    none.textContent = words && !shown && list.querySelector(".catalog-table") ? "Nothing here contains “" + text.trim() + "”." : "";
    none.hidden = !none.textContent;
  }

  var serverSearch = null;
  function searchChanged() {
    var list = catalog();
    if (!list || !list.hasAttribute("data-catalog-url")) return;
    filter(list, search.value);
    // A list cut short (or already a server's search) asks the source, once typing pauses.
    if (list.hasAttribute("data-server-search")) {
      clearTimeout(serverSearch);
      serverSearch = setTimeout(function () { load(list.getAttribute("data-catalog-url"), search.value); }, 400);
    }
  }

  function load(url, text) {
    var query = text && text.trim() ? "?q=" + encodeURIComponent(text.trim()) : "";
    window.htmx.ajax("GET", url + query, { target: "#catalog", swap: "outerHTML" });
  }

  // Each list the server sends (the first, another source's, a search's).
  document.addEventListener("htmx:load", function (event) {
    var list = catalog();
    if (!list || event.target !== list) return;
    if (search && search.value) filter(list, search.value);
    if (editor) editor.setSchema(completionSchema(list), sourceTypes[list.getAttribute("data-source")]);
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".catalog-toggle");
    if (toggle) {
      setExpanded(toggle.closest(".catalog-table"), toggle.getAttribute("aria-expanded") !== "true");
      return;
    }
    var button = event.target.closest(".catalog-insert");
    if (!button || !textarea || textarea.disabled) return;
    if (editor) editor.insert(button.getAttribute("data-insert"));
    else insertIntoTextarea(button.getAttribute("data-insert"));
  });

  if (search) {
    search.hidden = false; // it works from here on, whatever the list holds
    search.addEventListener("input", searchChanged);
  }

  // Another source chosen: its tables, and its SQL dialect.
  if (sourceSelect && field) {
    sourceSelect.addEventListener("change", function () {
      var url = field.getAttribute("data-catalog-url");
      if (!url || !catalog()) return;
      load(url.replace(/\/sources\/\d+\//, "/sources/" + encodeURIComponent(sourceSelect.value) + "/"), search ? search.value : "");
    });
  }

  editor = makeEditor();
  if (editor) window.SynclineSqlEditor = editor;
})();
