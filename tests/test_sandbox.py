"""Bounded template evaluation (policypack.sandbox): every hostile expression in clause text or a
page template fails fast, with a readable TemplateError, and the process stays healthy."""
import sys
import time

import jinja2
import pytest
from jinja2.exceptions import SecurityError

from policypack import sandbox
from policypack.render.html import environment
from policypack.resolve import _env
from policypack.sandbox import (NotText, NumberTooLarge, TemplateValueError, TextTooLong, TooDeep, TooMuchWork,
                                render_bounded)

FAST = 2.0  # seconds: each hostile template must fail within this


def ref(target=None):
    return f"[](xref:{target})"


CLAUSE = {"head": "Headteacher", "organisation": "Demo Primary School", "ref": ref}


def clause(text: str) -> str:
    return _env().from_string(text).render(CLAUSE)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """A page environment (as render/html.py builds it) over a folder of hostile templates."""
    folder = tmp_path_factory.mktemp("templates")
    files = {
        "self-extends.html.j2": '{% extends "self-extends.html.j2" %}',
        "self-include.html.j2": 'x{% include "self-include.html.j2" %}',
        "self-import.html.j2": '{% import "self-import.html.j2" as m %}x',
        "ping.html.j2": '{% include "pong.html.j2" %}',
        "pong.html.j2": '{% include "ping.html.j2" %}',
        "recursive-loop.html.j2": "{% for o in tree recursive %}{{ o }}{{ loop([o, o]) }}{% endfor %}",
        "title.html.j2": "<h1>{{ doc.title * 100000000 }}</h1>",
        "rows.html.j2": "{% for r in rows %}{{ big }}{% endfor %}",
        "lines.html.j2": "<p>one</p>\n<p>{{ 1 // 0 }}</p>\n",
        "good.html.j2": '{% extends "base.html.j2" %}'
                        '{% block b %}{% for r in rows %}{{ r }},{% endfor %}{% endblock %}',
        "base.html.j2": "<main>{% block b %}{% endblock %}</main>{{ doc.title }}",
        "self-block.html.j2": "{% block a %}x{{ self.a() }}{% endblock %}",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return environment((folder,))


PAGE = {"doc": {"title": "Policy <b>"}, "rows": [1, 2, 3], "tree": [1], "big": "x" * 1_000_000}


def page(env, name: str, **values) -> str:
    return render_bounded(env.get_template(name), **dict(PAGE, **values))


def fails(fn, error, message):
    """fn() raises `error` with exactly `message`, within FAST seconds."""
    start = time.monotonic()
    with pytest.raises(error) as info:
        fn()
    assert time.monotonic() - start < FAST
    assert info.value.message == message
    assert isinstance(info.value, jinja2.TemplateError)
    return info.value


TOO_LONG = "the template makes a text longer than 2 MB"
BIG_NUMBER = "the template works out a number with more than 1,000 digits"
MACRO = "a macro, loop or block calls itself more than 50 levels deep"
STEPS = "the template does too much work: its loops, macros and templates would run more than 200,000 steps"
WIDTH = "the template sets a width with '*' in a % format: write the width as a number"


@pytest.mark.parametrize("text, error, message", [
    ("{{ 9**999999999 }}", NumberTooLarge, BIG_NUMBER),
    ("{{ 10**1000 }}", NumberTooLarge, BIG_NUMBER),
    ("{{ (10**600) * (10**600) }}", NumberTooLarge, BIG_NUMBER),
    ("{{ head * 100000000 }}", TextTooLong, TOO_LONG),
    ("{{ 'a'*10**9 }}", TextTooLong, TOO_LONG),
    ("{{ [head] * 10**9 }}", TextTooLong, TOO_LONG),
    ("{{ (head * 1000000) + (head * 1000000) }}", TextTooLong, TOO_LONG),
    ("{{ head.center(10**9) }}", TextTooLong, TOO_LONG),
    ("{{ head.ljust(10**9) }}", TextTooLong, TOO_LONG),
    ("{{ head.zfill(10**9) }}", TextTooLong, TOO_LONG),
    ("{{ head.replace('', head * 100000) }}", TextTooLong, TOO_LONG),
    ("{{ (head * 100000).join(head * 10000) }}", TextTooLong, TOO_LONG),
    ("{{ '%999999999s' % head }}", TextTooLong, TOO_LONG),
    ("{{ '%.999999999f' % 1.5 }}", TextTooLong, TOO_LONG),
    ("{{ '%*s' % (10**9, head) }}", TextTooLong, WIDTH),
    ("{{ '{:>999999999}'.format(head) }}", TextTooLong, TOO_LONG),
    ("{{ '{0:{1}}'.format(head, 10**9) }}", TextTooLong,
     "the template takes a format width from a value: write the width as a number"),
    ("{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d(head, 60) }}",
     TextTooLong, TOO_LONG),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", TooDeep, MACRO),
    ("{% for a in head * 10000 %}{% for b in head * 10000 %}{% endfor %}{% endfor %}", TooMuchWork, STEPS),
    ("{% for a in head * 10000 %}{% for b in head * 10000 if false %}{% endfor %}{% endfor %}", TooMuchWork, STEPS),
    ("{{ ref }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ ref|capitalize }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ ref ~ '' }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ '{}'.format(ref) }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ '%s' % ref }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ [ref] }}", NotText, "'ref' is a function: write ref('clause-id')"),
    ("{{ head.upper }}", NotText, "'upper' is a function: write upper(…)"),
    ("{{ 3|capitalize }}", NotText, "capitalize works on text: the template gives it a number or a list"),
    ("{{ 1 // 0 }}", TemplateValueError, "the template divides by zero"),
    ("{{ 2.0 ** 100000 }}", TemplateValueError, "the template works out a number too large to use"),
    ("{{ head + 1 }}", TemplateValueError,
     'the template cannot work out a value: can only concatenate str (not "int") to str'),
    ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}", TooDeep,
     "the template nests brackets, operators or tags too deeply to read"),
    ("{{ " + "1 + " * 100 + "1 }}", TooDeep, "the template nests brackets, operators or tags more than 60 levels deep"),
    ("{{ " + "not " * 500 + "1 }}", TooDeep, "the template nests brackets, operators or tags more than 60 levels deep"),
    ("{% for a in [1] %}" * 30 + "x" + "{% endfor %}" * 30, TooDeep,
     "the template nests brackets, operators or tags too deeply to read"),
])
def test_hostile_clause_text_fails_fast_with_a_clear_message(text, error, message):
    exc = fails(lambda: clause(text), error, message)
    if error is not TemplateValueError:
        assert isinstance(exc, SecurityError)  # resolve's and build's handlers catch these
    assert exc.hint


def test_ordinary_clause_text_is_unchanged():
    text = ("{{ head|capitalize }} of {{ organisation }}: see {{ ref('x') }}.\n"
            "{% if head %}{% for w in ['a', 'b'] %}{{ w }}{{ loop.index }}{% endfor %}{% endif %}"
            "{{ 2 ** 10 }} {{ '%5s|' % 'ab' }}{{ '{:>4}'.format(7) }} {{ 10 ** 999 > 0 }}")
    assert clause(text) == ("Headteacher of Demo Primary School: see [](xref:x).\n"
                            "a1b2" "1024    ab|   7 True")


def test_errors_carry_the_template_line():
    exc = fails(lambda: clause("one\ntwo\n{{ head * 10**8 }}\n"), TextTooLong, TOO_LONG)
    assert exc.lineno == 3
    exc = fails(lambda: clause("one\n{{ 1 // 0 }}"), TemplateValueError, "the template divides by zero")
    assert exc.lineno == 2


def test_recursion_leaves_the_process_healthy():
    limit = sys.getrecursionlimit()
    for _ in range(3):
        fails(lambda: clause("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}"), TooDeep, MACRO)
        fails(lambda: clause("{{ " + "[" * 400 + "]" * 400 + " }}"), TooDeep,
              "the template nests brackets, operators or tags too deeply to read")
    assert sys.getrecursionlimit() == limit
    assert sandbox._BUDGET.get() is None  # no render's budget left behind
    assert clause("{% macro m(n) %}{{ m(n - 1) if n else 'done' }}{% endmacro %}{{ m(10) }}") == "done"


def test_a_failed_render_does_not_spend_the_next_ones_budget():
    env = _env()
    tpl = env.from_string("{% for a in head * 1000 %}{% endfor %}ok")
    for _ in range(5):  # each render has its own budget: 11,000 items, some 80,000 steps each
        assert tpl.render(CLAUSE) == "ok"
    with pytest.raises(TooMuchWork):
        env.from_string("{% for a in head * 100000 %}{% endfor %}").render(CLAUSE)
    assert tpl.render(CLAUSE) == "ok"


@pytest.mark.parametrize("name, error, message", [
    ("self-extends.html.j2", TooDeep, "templates extend, include or import each other too deeply (or in a circle)"),
    ("self-include.html.j2", TooDeep, "templates extend, include or import each other too deeply (or in a circle)"),
    ("self-import.html.j2", TooDeep, "templates extend, include or import each other too deeply (or in a circle)"),
    ("ping.html.j2", TooDeep, "templates extend, include or import each other too deeply (or in a circle)"),
    ("recursive-loop.html.j2", TooDeep, MACRO),
    ("self-block.html.j2", TooDeep, MACRO),
    ("title.html.j2", TextTooLong, "the template makes a text longer than 20 MB"),
    ("rows.html.j2", TextTooLong, "the template makes a text longer than 20 MB"),
    ("lines.html.j2", TemplateValueError, "the template divides by zero"),
])
def test_hostile_page_templates_fail_fast(pages, name, error, message):
    rows = list(range(30)) if name == "rows.html.j2" else [1, 2, 3]  # 30 x 1 MB: past 20 MB
    exc = fails(lambda: page(pages, name, rows=rows), error, message)
    if name == "lines.html.j2":
        assert exc.lineno == 2 and exc.filename.endswith("lines.html.j2")
    assert page(pages, "good.html.j2") == "<main>1,2,3,</main>Policy &lt;b&gt;"  # still healthy


@pytest.mark.parametrize("text, error, message", [
    ("{{ doc.title|center(10**9) }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ ('\n' * 100000)|indent(1000) }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ doc.title|wordwrap(1, wrapstring='x' * 10**7) }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ rows|join('x' * 10**7) }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ doc.title|replace('', 'x' * 10**7) }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ rows|batch(10**9, 0)|list }}", TextTooLong, "the template makes a text longer than 20 MB"),
    ("{{ rows|slice(10**9)|list }}", TooMuchWork,
     "the template does too much work: its loops, macros and templates would run more than 1,500,000 steps"),
    ("{{ [[1]] * 10|sum(start=[]) }}", TemplateValueError, "the template adds up things that are not numbers"),
    ("{% for r in rows %}{{ loop }}{% endfor %}", NotText, "'loop' is a function: write loop(…)"),
    ("{{ doc.items }}", NotText, "'items' is a function: write items(…)"),
    ("{% set x %}{% for a in big %}{% for b in rows %}{{ big }}{% endfor %}{% endfor %}{% endset %}{{ x|length }}",
     TextTooLong, "the template makes more than 80 MB of text in all"),
])
def test_page_filters_and_blocks_are_bounded(pages, text, error, message):
    fails(lambda: pages.from_string(text).render(**PAGE), error, message)


def test_random_filter_is_gone_and_pages_still_escape(pages):
    with pytest.raises(jinja2.TemplateAssertionError):
        pages.from_string("{{ rows|random }}")
    assert pages.from_string("{{ doc.title ~ '<i>' }}|{{ rows|join(',') }}").render(**PAGE) == \
        "Policy &lt;b&gt;&lt;i&gt;|1,2,3"


def test_render_bounded_bounds_a_template_from_any_environment():
    tpl = jinja2.Environment().from_string("{% for i in range(30) %}{{ big }}{% endfor %}")
    fails(lambda: render_bounded(tpl, big="x" * 1_000_000), TextTooLong, "the template makes a text longer than 20 MB")
    tpl = jinja2.Environment().from_string("{{ 1 // 0 }}")
    fails(lambda: render_bounded(tpl), TemplateValueError, "the template divides by zero")
    assert render_bounded(jinja2.Environment().from_string("{{ a }}!"), a="ok") == "ok!"
