"""The Jinja templates of the report pages (autoescaped; ``pages`` renders them)."""

from __future__ import annotations

BASE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{% endblock %} · {{ tenant }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3a5f; color: #fff; padding: 10px 24px; }
header a { color: #cfe0ff; margin-right: 14px; text-decoration: none; }
header a.here { color: #fff; font-weight: bold; }
main { padding: 12px 24px 40px; max-width: 1500px; }
h1 { font-size: 22px; margin: 8px 0 2px; }
.meta { color: #555; margin: 0 0 12px; }
dl.definitions { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff;
  border: 1px solid #ddd; padding: 10px 14px; }
dl.definitions dt { font-weight: bold; }
dl.definitions dd { margin: 0; }
figure.chart { background: #fff; border: 1px solid #ddd; margin: 14px 0; padding: 8px; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; background: #fff; margin: 8px 0 18px; }
caption { text-align: left; font-weight: bold; padding: 6px 0; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #eef2f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #f3f3f3; }
ul.pages li { margin: 6px 0; }
</style>
</head>
<body>
<header>
<a href="index.html"{% if current == "index.html" %} class="here"{% endif %}>Reports · {{ tenant }}</a>
{% for p in pages %}<a href="{{ p.file }}"{% if current == p.file %} class="here"{% endif %}>{{ p.title }}</a>
{% endfor %}
</header>
<main>
<p class="meta">Tenant <b>{{ tenant }}</b> · local days {{ first }} to {{ last }} · time zone {{ time_zone }}
· from the Info Mart's AG2_* views · generated {{ generated }}</p>
{% block body %}{% endblock %}
</main>
</body>
</html>
"""

PAGE = """{% extends "base.html" %}
{% block title %}{{ page.title }}{% endblock %}
{% block body %}
{% macro cells(row, labels) %}{% for cell in row %}<td{% if loop.index > labels %} class="n"{% endif %}>
{{- cell }}</td>{% endfor %}{% endmacro %}
<h1>{{ page.title }}</h1>
<p class="summary">{{ page.summary }}</p>
<h2>Definitions</h2>
<dl class="definitions">
{% for term, text in page.definitions %}<dt>{{ term }}</dt><dd>{{ text }}</dd>
{% endfor %}</dl>
{% for chart in page.charts %}<figure class="chart">{{ chart }}</figure>
{% endfor %}
{% for table in page.tables %}
<table class="figures">
<caption>{{ table.caption }}</caption>
<thead><tr>{% for h in table.headers %}<th>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in table.rows %}<tr>{{ cells(row, table.labels) }}</tr>
{% else %}<tr class="empty"><td colspan="{{ table.headers | length }}">no rows in this range</td></tr>
{% endfor %}
{% if table.total %}<tr class="total">{{ cells(table.total, table.labels) }}</tr>
{% endif %}</tbody>
</table>
{% endfor %}
{% endblock %}
"""

INDEX = """{% extends "base.html" %}
{% block title %}Reports{% endblock %}
{% block body %}
<h1>Contact-centre reports</h1>
<ul class="pages">
{% for p in pages %}<li><a href="{{ p.file }}">{{ p.title }}</a>: {{ p.summary }}</li>
{% endfor %}</ul>
<p>Every page states the definitions of its figures and the thresholds they were counted with;
docs/reports.md describes them all.</p>
{% endblock %}
"""

TEMPLATES = {"base.html": BASE, "page.html": PAGE, "index.html": INDEX}
