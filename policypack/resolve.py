"""Stage 3, resolve: the layered tree -> one organisation's `ResolvedPolicy`.

Switches optional clauses on or off, numbers everything in the organisation's style, renders
clause text through a sandboxed Jinja environment (strict undefined variables, `ref()` for
cross-references), parses the Markdown into blocks, and fills in the front matter.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Optional

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from . import frontmatter, history, markup, numbering
from .errors import Loc, Report, did_you_mean
from .layer import Layered, apply_layers
from .lint import lint_copy, lint_text
from .names import NameFinder
from .model import (Approval, Branding, ChangeRow, Form, FormChoices, FormField, FormSignature, FormTable, FormTick,
                    Node, OrgInfo, Para, Project, ResolvedPolicy, RNode, Text, XRef, blocks_text)
from .sandbox import CLAUSE_OUTPUT, CLAUSE_STEPS, BoundedEnvironment, BoundedErrors, NotText

# what an organisation chooses for a clause once for all its policies: (the choice, how to say it)
CHOICES = (
    (lambda n: n.variant if n.variants else None, lambda v: f"variant '{v}'"),
    (lambda n: n.enabled if n.optional else None, lambda v: "switched on" if v else "switched off"),
    (lambda n: n.current_text()[0], lambda v: "worded differently"),
)
BUILTIN_VARIABLES = ("organisation", "organisation_kind", "policy_title", "policy_kind", "policies")
SLOT_PLACEHOLDER = "[To be completed by each school: {what}]"


def _env() -> SandboxedEnvironment:
    """The clause language: bounded (sandbox.py: no huge numbers, repetition, deep nesting, more
    than 2 MB of text), strict about undefined variables, no globals; one filter."""
    env = BoundedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
                             output_limit=CLAUSE_OUTPUT, step_limit=CLAUSE_STEPS,
                             call_examples={"ref": "ref('clause-id')"})
    env.globals.clear()  # no range(), dict(), lipsum(), cycler() ...: variables and ref() only

    def capitalize(s):
        """A role at the start of a sentence; text only (a function's repr holds a memory address)."""
        if isinstance(s, jinja2.Undefined):
            str(s)  # StrictUndefined: raises the usual 'x is undefined'
        if not isinstance(s, str):
            env.printable(s)  # a function: "'ref' is a function: write ref('clause-id')"
            raise NotText("capitalize works on text: the template gives it a number or a list")
        return s[:1].upper() + s[1:]

    # Filters are not part of the clause language, except one: a role at the start of a sentence.
    env.filters = {"capitalize": capitalize}
    return env


_ENV = _env()


@functools.lru_cache(maxsize=16384)
def _template(text: str) -> jinja2.Template:
    """Compiled once per distinct text: the same clause text serves every organisation."""
    return _ENV.from_string(text)


def _line_of(text: str, word: str, loc: Loc) -> Loc:
    """The line of `loc`'s text on which `word` first appears (the text starts at loc.line)."""
    for k, line in enumerate(text.splitlines()):
        if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", line):
            return Loc(loc.file, loc.line + k, loc.path)
    return loc


@functools.lru_cache(maxsize=8)
def _names_index(names: tuple) -> NameFinder:
    """One finder per project for the organisation names, compared by skeleton (look-alikes,
    invisible characters, case and spacing do not hide a name); built once, used for every text."""
    return NameFinder(names, min_length=4)


def _names_in(text: str, index: NameFinder):
    """The organisation names mentioned in `text` (however written: look-alike letters, case,
    spacing and invisible characters do not hide one), as whole words; a longer name wins, so
    "Kestrel Park Academy" is not also read as a shorter name inside it. One pass over the text,
    however many names share a first word."""
    return index.find(text)


def add_months(d: dt.date, months: int) -> dt.date:
    """`months` after `d`, on the same day or the month's last; never raises (clamped to the
    dates Python can hold)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    if year < dt.MINYEAR:
        return dt.date.min
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, 28)


def resolve(project: Project, org_id: str, policy_id: str, report: Report) -> ResolvedPolicy:
    layered = apply_layers(project, org_id, policy_id, report)
    return _Resolver(project, layered, report).run()


class _Resolver:
    def __init__(self, project: Project, layered: Layered, report: Report):
        self.project = project
        self.layered = layered
        self.report = report
        self.org = layered.org
        self.leaf = not project.children(self.org.id)
        self.numbering = layered.fields.get("numbering", ("decimal",))[0]
        self.scheme = numbering.for_chain(self.numbering, layered.chain) or numbering.SCHEMES["decimal"]
        self.numberer = numbering.Numberer(self.scheme)
        self.off: dict = {}  # id -> Node switched off (with its subtree)
        self.numbers: dict = {}  # id -> RNode (blocks filled in later)
        self.others: dict = {}  # policy id -> its _Resolver, numbered only (for cross-policy references)
        self.title = ""

    # ---- driver ----------------------------------------------------------------------------
    def run(self) -> ResolvedPolicy:
        lp = self.layered
        policy = lp.policy
        sections, appendices = self._number_all()
        self.context = self._context()
        sources = {n.id: n for n in policy.walk()}
        for rnode in [r for top in sections + appendices for r in top.walk()]:
            src = sources[rnode.id]
            rnode.title = self._render_inline(src.title, src.loc, f"the title of '{src.id}'") if src.title else None
            rnode.blocks = numbering.list_styles(self._blocks_for(src), self.scheme.list_formats())
        for part in [n for n in self.outline if n.kind == "part"]:
            src = sources[part.id]
            part.title = self._render_inline(src.title, src.loc, f"the title of part '{src.id}'")
        field = lambda k: lp.fields.get(k, (None, None, None))  # noqa: E731
        key_message = []
        if field("key_message")[0]:
            key_message = self._markdown(field("key_message")[0], field("key_message")[1], "the key message")
        doc = ResolvedPolicy(
            policy_id=policy.id,
            title=self._render_inline(field("title")[0], field("title")[1], "the title"),
            reference=field("reference")[0] or "",
            kind=field("kind")[0] or "policy",
            version=str(lp.adoption.get("version") or field("version")[0] or ""),
            owner=self._render_inline(field("owner")[0] or policy.owner, field("owner")[1] or policy.loc,
                                      "the owner") if (field("owner")[0] or policy.owner) else "",
            summary=self._render_inline(field("summary")[0] or policy.summary, field("summary")[1] or policy.loc,
                                        "the summary") if (field("summary")[0] or policy.summary) else None,
            key_message=key_message,
            org=OrgInfo(self.org.id, markup.typeset(self.org.name), self.org.kind,
                        [(o.id, markup.typeset(o.name), o.kind) for o in lp.chain]),
            numbering=self.numbering,
            sections=sections,
            appendices=appendices,
            changes=self._changes(self.entries),
            review_history=list(lp.review_history),
            adoption=dict(lp.adoption),
            approvals=[Approval(*a) for a in lp.approvals],
            last_reviewed=None,
            next_review=None,
            review_cycle_months=lp.review.get("cycle_months") or policy.review_cycle_months,
            branding=self._branding(),
            consultation=list(lp.consultation),
            model_revision=self.org.model_revision,
            outline=self.outline,
            numbering_from=f"{field('numbering')[2]} ({field('numbering')[1]})" if "numbering" in lp.fields
            else "default",
        )
        doc.history = history.table(doc.changes, self.place, self.include, doc.kind, self.left_out)
        last = lp.review.get("last_reviewed")
        doc.last_reviewed = dt.date.fromisoformat(last) if last else None
        explicit = dt.date.fromisoformat(lp.review["next_review"]) if lp.review.get("next_review") else None
        if explicit and (doc.last_reviewed is None or explicit > doc.last_reviewed):
            doc.next_review = explicit
        elif doc.last_reviewed:
            doc.next_review = add_months(doc.last_reviewed, doc.review_cycle_months)
        doc.scheme = self.scheme
        doc.front = frontmatter.compute(self, doc)
        lint_copy(lp, self.report)
        self._check_foreign_names(doc, sources)
        self._check_choices()
        return doc

    # ---- switching and numbering -----------------------------------------------------------
    def _number_all(self) -> tuple:
        """(sections, appendices) as RNodes without text: every label and reference number; also the
        version history's placement and entries (they decide whether its appendix shows)."""
        lp = self.layered
        self.outline, sections, part_appendices = self._parts(self._enabled(lp.policy.sections))
        choice = history.options(lp.chain, lp.policy.id)
        self.place, self.include = choice["place"][0], choice["include"][0]
        self.entries, self.left_out = history.select(lp, self.include)
        # a history placed at the front is not also shown in its appendix
        generated_data = {"changes": self.entries if self.place == "appendix" else [],
                          "review-history": lp.review_history}
        shown = [n for n in part_appendices + lp.policy.appendices if not n.generated or generated_data[n.generated]]
        appendices = [self._number(n, 1, [i], appendix=True) for i, n in enumerate(self._enabled(shown), 1)]
        return sections, appendices

    def _enabled(self, nodes: list) -> list:
        out = []
        for n in nodes:
            if n.enabled:
                out.append(n)
            else:
                for sub in n.walk():
                    self.off[sub.id] = n
        return out

    def _parts(self, tops: list) -> tuple:
        """(outline, sections, appendices of the parts) from the enabled top-level items: sections
        number on across parts; a part is labelled by the scheme ("Part 2") and holds its enabled
        sections. `outline` is empty when there are no parts."""
        outline, sections, appendices = [], [], []
        for top in tops:
            if top.kind != "part":
                sections.append(self._number(top, 1, [len(sections) + 1]))
                outline.append(sections[-1])
                continue
            number, label = self.numberer.part(sum(1 for n in outline if n.kind == "part") + 1)
            part = RNode(id=top.id, kind="part", level=0, number=number, label=label, ref=label,
                         anchor=f"c-{top.id}", title=top.title, blocks=[], children=[],
                         provenance=top.provenance, guidance=top.guidance)
            self.numbers[top.id] = part
            for child in self._enabled([c for c in top.children if c.kind == "section"]):
                sections.append(self._number(child, 1, [len(sections) + 1]))
                part.children.append(sections[-1])
            appendices += [c for c in top.children if c.kind == "appendix"]
            outline.append(part)
        return (outline if any(n.kind == "part" for n in outline) else []), sections, appendices

    def _number(self, node: Node, level: int, path: list, appendix: bool = False, parent_ref: str = "") -> RNode:
        path = path[:-1] + [self.numberer.counter(level, path[-1], appendix)]  # a running count, if the scheme says
        number, label, ref = self._label(node, level, path, appendix, parent_ref)
        rnode = RNode(id=node.id, kind=node.kind, level=level, number=number, label=label, ref=ref,
                      anchor=f"c-{node.id}", title=node.title, blocks=[], children=[],
                      provenance=node.provenance, slot=node.slot, locked=node.locked,
                      variant=node.variant if node.variants else None, variants=tuple(node.variants),
                      generated=node.generated,
                      guidance=node.guidance)
        self.numbers[node.id] = rnode
        for i, child in enumerate(self._enabled(node.children), 1):
            rnode.children.append(self._number(child, level + 1, path + [i], appendix, ref))
        return rnode

    def _label(self, node: Node, level: int, path: list, appendix: bool, parent_ref: str):
        """(number, label in the margin, text of a cross-reference) in this organisation's scheme
        (numbering.py owns the rules)."""
        return self.numberer.label(level, path, appendix, parent_ref, node.title)

    # ---- text ------------------------------------------------------------------------------
    def _context(self) -> dict:
        ctx = {}
        for name, (value, loc, layer) in self.layered.variables.items():
            if name in BUILTIN_VARIABLES:
                self.report.error(loc, f"'{name}' is set automatically and cannot be given a value",
                                  "Delete this variable: it always holds the name of the organisation or policy.")
                continue
            ctx[name] = value
        ctx.update(policies=tuple(self.project.published(self.org.id)))  # ids: {% if 'x' in policies %}
        ctx.update(organisation=self.org.name, organisation_kind=self.org.kind.replace("-", " "),
                   policy_title=self.layered.fields["title"][0], policy_kind=self.layered.fields["kind"][0])
        return ctx

    def _render(self, text: str, loc: Loc, what: str, current: Optional[str] = None) -> str:
        def ref(target=None, *rest):
            if not isinstance(target, str):
                self.report.error(loc, f"ref() in {what} needs a clause id in quotes", "Write {{ ref('clause-id') }}.")
                return ""
            self._check_ref(target, _line_of(text, target, loc), what)
            return markup.xref_link(target)

        if "{" not in text:
            return text
        try:
            return _template(text).render(dict(self.context, ref=ref))
        except jinja2.TemplateSyntaxError as exc:
            self.report.error(Loc(loc.file, loc.line + (exc.lineno or 1) - 1, loc.path),
                              f"template error in {what}: {exc.message}",
                              "Variables are written {{ name }}; cross-references {{ ref('clause-id') }}.")
        except jinja2.UndefinedError as exc:
            m = re.search(r"'([^']+)' is undefined", str(exc.message))
            name = m.group(1) if m else str(exc.message)
            self.report.error(_line_of(text, name, loc), f"undefined variable '{name}' in {what}",
                              (did_you_mean(name, self.context) + " " if did_you_mean(name, self.context) else "")
                              + f"Define '{name}' under 'variables:' in schools/{self.org.id}.yaml or a layer above it.")
        except BoundedErrors as exc:  # too big, too deep, not text, a division by zero ...
            self.report.error(Loc(loc.file, loc.line + (exc.lineno or 1) - 1, loc.path), f"template error in {what}: {exc.message}",
                              exc.hint)
        except jinja2.exceptions.SecurityError as exc:
            self.report.error(loc, f"{what} tries something templates may not do: {exc}",
                              "Clause text may only use variables, ref() and simple if-conditions.")
        except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, RecursionError, MemoryError) as exc:
            self.report.error(loc, f"template error in {what}: {exc}", "Simplify the template expression.")
        return ""

    def _check_ref(self, target: str, loc: Loc, what: str) -> None:
        if ":" in target:
            self._other_ref(target, loc, what)
            return
        if target in self.numbers:
            return
        if target in self.off:
            self.report.error(loc, f"{what} refers to '{target}', which {self.org.id} has switched off",
                              f"Switch '{self.off[target].id}' back on, or reword this text so it does not point at it.")
        elif target in self.layered.removed:
            layer, rloc = self.layered.removed[target]
            self.report.error(loc, f"{what} refers to '{target}', which '{layer}' removed at {rloc}",
                              "Reword this text, or keep the clause.")
        else:
            all_ids = [n.id for n in self.layered.policy.walk()]
            self.report.error(loc, f"{what} refers to unknown id '{target}'",
                              did_you_mean(target, all_ids) or "Use the id of a section, clause or appendix in this policy.")

    def _other_policy(self, pid: str) -> Optional["_Resolver"]:
        """Another policy of this organisation's pack, numbered (not rendered) for cross-references;
        its own problems are reported when it is resolved itself."""
        if pid not in self.others:
            other = None
            if pid in self.project.published(self.org.id) and pid != self.layered.policy.id:
                other = _Resolver(self.project, apply_layers(self.project, self.org.id, pid, Report()), Report())
                other._number_all()
                other.context = other._context()
                field = other.layered.fields["title"]
                other.title = other._render_inline(field[0], field[1], "the title")
            self.others[pid] = other
        return self.others[pid]

    def _check_choices(self) -> None:
        """One organisation holds one rule: a clause its policies share (a library clause) has the same
        variant, the same on/off and the same text (fill or replacement) in each of them. Reported at the choice made last,
        in words that do not depend on which of the policies is being resolved (so `check` says it once)."""
        mine = {n.id: n for n in self.layered.policy.walk()}
        for pid in self.project.published(self.org.id):
            if pid == self.layered.policy.id or not any(n.id in mine for n in self.project.policy(self.org.id, pid).walk()):
                continue
            theirs = {n.id: n for n in self._other_policy(pid).layered.policy.walk()}
            pair = sorted([(self.layered.policy.id, mine), (pid, theirs)])
            for cid in sorted(set(mine) & set(theirs)):
                (p1, a), (p2, b) = [(name, nodes[cid]) for name, nodes in pair]
                for value, say in CHOICES:
                    va, vb = value(a), value(b)
                    if va == vb:
                        continue
                    order = {o.id: k for k, o in enumerate(self.layered.chain)}
                    edits = [e for e in a.provenance.edits + b.provenance.edits if e[2] is not None]
                    loc = max(edits, key=lambda e: (order.get(e[0], -1), e[2].file, e[2].line))[2] if edits \
                        else a.loc
                    differs = f"is {say(va)} in {p1} but {say(vb)} in {p2}" if say(va) != say(vb) \
                        else f"is worded differently in {p1} and {p2}"
                    self.report.error(loc, f"'{cid}' {differs}: an organisation holds one rule in all its policies",
                                      "Make the choice once for every policy, at the top of the organisation's "
                                      "file ('variants:', 'enable:', 'disable:' or 'fill:' beside 'policies:'), "
                                      "and delete the per-policy lines that differ.")
                    break

    def _other_ref(self, target: str, loc: Loc, what: str) -> None:
        """`ref('policy-id:clause-id')`: a clause of another policy this organisation publishes."""
        pid, _, cid = target.partition(":")
        published = self.project.published(self.org.id)
        if pid == self.layered.policy.id:
            self.report.error(loc, f"{what} refers to '{target}' in its own policy",
                              f"Write {{{{ ref('{cid}') }}}} for a clause of this policy.")
        elif pid not in published:
            known = pid in self.project.policy_ids()
            self.report.error(loc, f"{what} refers to policy '{pid}', which {self.org.id} does not publish"
                              if known else f"{what} refers to unknown policy '{pid}'",
                              (did_you_mean(pid, published) or "") + (" " if did_you_mean(pid, published) else "")
                              + "Name one of this organisation's policies before the colon: "
                              + ", ".join(published) + ".")
        else:
            other = self._other_policy(pid)
            if cid and cid not in other.numbers:
                where = "has switched off" if cid in other.off else \
                    f"removed by '{other.layered.removed[cid][0]}'" if cid in other.layered.removed else None
                ids = [n.id for n in other.layered.policy.walk()]
                if where:
                    self.report.error(loc, f"{what} refers to '{cid}' in '{pid}', which {self.org.id} {where}",
                                      f"Keep '{cid}' in {pid}, or reword this text so it does not point at it.")
                else:
                    self.report.error(loc, f"{what} refers to unknown id '{cid}' in policy '{pid}'",
                                      did_you_mean(cid, ids) or f"Run 'policypack explain {self.org.id} {pid}' "
                                      "to list its ids.")

    def _render_inline(self, text: Optional[str], loc: Loc, what: str) -> str:
        if text is None:
            return ""
        rendered = self._render(str(text), loc, what)
        if "xref:" in rendered:
            def label(m):
                x = self._xref(m.group(1), loc)
                return markup.without_repeated_noun(rendered[:m.start()], x).label if x else ""
            rendered = re.sub(r"\[\]\(xref:([a-z0-9:-]+)\)", label, rendered)
        return markup.typeset(" ".join(rendered.split()))

    def _markdown(self, text: str, loc: Loc, what: str) -> list:
        rendered = self._render(text, loc, what)
        return markup.parse(rendered, loc, self.report, self._xref)

    def _xref(self, target: str, loc: Loc) -> Optional[XRef]:
        pid, _, cid = target.rpartition(":")
        other = self._other_policy(pid) if pid else self
        if pid and other and not cid:  # 'policy-id:' names the policy itself: its title, linked
            return XRef(target=target, anchor="", label=other.title, policy=pid)
        rnode = other.numbers.get(cid) if other else None
        if rnode is None:
            return None  # already reported when the template ran
        if not pid:
            return XRef(target=target, anchor=rnode.anchor, label=rnode.ref)
        title = other.title[4:] if other.title.lower().startswith("the ") else other.title
        return XRef(target=target, anchor=rnode.anchor, label=f"{rnode.ref} of the {title}", policy=pid)

    def _blocks_for(self, node: Node) -> list:
        text, loc = node.current_text()
        what = f"{node.kind} '{node.id}'"
        if node.slot and not node.filled:
            if self.leaf:
                self.report.error(node.loc, f"customisable slot '{node.id}' has not been filled for {self.org.id}",
                                  f"Add it under 'policies: {self.layered.policy.id}: fill: {node.id}: |' in "
                                  f"{self.org.file}" + (" (the model suggests wording you can start from)." if text else "."))
            elif not text:
                text = SLOT_PLACEHOLDER.format(what=node.title or node.id)
        if not text:
            return self._form(node)
        lint_text(text, loc or node.loc, what, self.leaf, self.report)
        return self._markdown(text, loc or node.loc, what) + self._form(node)

    def _form(self, node: Node) -> list:
        """The node's form as one Form block (after its text), its labels rendered as clause text is."""
        if not node.form:
            return []
        what = f"the form of {node.kind} '{node.id}'"

        def label(text, item):
            return self._one_line(text, item.loc, f"a label in {what}") if text else ()

        items = []
        for item in node.form:
            many = tuple(label(t, item) for t in item.options)
            if item.kind == "field":
                items.append(FormField(label(item.label, item), item.lines))
            elif item.kind == "signature":
                items.append(FormSignature(label(item.label, item), label(item.date, item)))
            elif item.kind == "tick":
                items.append(FormTick(label(item.label, item)))
            elif item.kind == "choices":
                items.append(FormChoices(label(item.label, item), many))
            elif item.kind == "table":
                items.append(FormTable(many, tuple(label(t, item) for t in item.columns), item.lines))
        return [Form(tuple(items))]

    def _one_line(self, text: str, loc: Loc, what: str,
                  hint: str = "A label is a few words: write lists, tables and longer wording in the clause's "
                              "text.") -> tuple:
        """Markdown with variables and ref() that must make one paragraph (a form's label, a cover
        row's value): its inlines."""
        lint_text(text, loc, what, self.leaf, self.report)
        blocks = self._markdown(text, loc, what)
        if len(blocks) == 1 and isinstance(blocks[0], Para):
            return tuple(blocks[0].inlines)
        if blocks:
            self.report.error(loc, f"{what} must be one line of text", hint)
        return (Text(" ".join(blocks_text(blocks).split())),) if blocks else ()

    # ---- the rest --------------------------------------------------------------------------
    def _changes(self, entries: list) -> list:
        """The rows of the table of changes for `entries` (history.select's choice of the layered
        changes, all of which are checked), newest first, in this organisation's numbers."""
        rows = []
        names = {o.id: markup.typeset(o.name) for o in self.layered.chain}
        all_ids = {n.id for n in self.layered.policy.walk()} | set(self.layered.removed) | self.layered.unplaced
        for ch in self.layered.changes:
            for cid in ch.clauses if ch.clauses != "all" else ():
                if cid not in self.numbers and cid not in all_ids:
                    self.report.error(ch.loc, f"the change of {ch.date} names unknown id '{cid}'",
                                      did_you_mean(cid, all_ids) or "Name sections or clauses of this policy, or 'all'.")
        order = list(self.numbers)
        for ch in entries:
            if ch.clauses == "all":
                affected = "All"
            else:
                affected = ", ".join(r for _, r in sorted((order.index(c), self.numbers[c].ref)
                                                          for c in ch.clauses if c in self.numbers))
            rows.append(ChangeRow(date=ch.date, summary=self._render_inline(ch.summary, ch.loc, "a change summary"),
                                  affected=affected, layer=ch.layer, layer_name=names.get(ch.layer, "Model policy"),
                                  version=self._render_inline(ch.version, ch.loc, "a change's version"),
                                  author=self._render_inline(ch.author, ch.loc, "a change's author")))
        rows.sort(key=lambda r: r.date, reverse=True)
        return rows

    def _branding(self) -> Branding:
        b = Branding()
        lp = self.layered
        if "logo" in lp.branding:
            b.logo = lp.branding["logo"][0]
            b.logo_owner = next(o.name for o in reversed(lp.chain) if "logo" in o.branding)
        for key in ("colour", "accent", "font"):
            if key in lp.branding:
                setattr(b, key, lp.branding[key][0])
        b.template_dirs = [o.branding["templates"][0] for o in reversed(lp.chain) if "templates" in o.branding]
        return b

    def _check_foreign_names(self, doc: ResolvedPolicy, sources: dict) -> None:
        """Flag another organisation's name left in this organisation's text. Names and text are
        compared by skeleton, so look-alike letters, invisible characters, case and spacing do not
        hide a name; a name that looks the same as one this organisation may use is not foreign
        (the loader reports the look-alike on the file that copies it)."""
        chain_ids = {o.id for o in self.layered.chain}
        allowed = set(chain_ids)
        for o in self.layered.chain:
            if o.kind in ("federation", "trust") and o.id != self.org.id:
                allowed.update(c.id for c in self.project.organisations.values() if c.extends == o.id)
        orgs = sorted(self.project.organisations.values(), key=lambda o: o.id)
        index = _names_index(tuple(o.name for o in orgs))
        own = {index.skeletons[o.name] for o in orgs if o.id in allowed}
        foreign = {}
        for o in orgs:
            key = index.skeletons[o.name]
            if o.id not in allowed and key not in own:
                foreign.setdefault(key, o.name)
        if not foreign:
            return
        places = [(f"{n.kind} '{n.id}'", sources[n.id].provenance.loc or sources[n.id].loc,
                   (n.title or "") + "\n" + blocks_text(n.blocks)) for n in doc.walk_outline()]
        fields = self.layered.fields
        places += [("the title", fields["title"][1], doc.title),
                   ("the key message", fields["key_message"][1], blocks_text(doc.key_message))]
        places += [(f"the change of {c.date}", c.loc, c.summary) for c in self.layered.changes]
        reported = set()
        for i, found in index.find_each([text for _, _, text in places]):
            key = index.skeletons[found]
            if key in foreign and i not in reported:
                reported.add(i)
                what, where, _ = places[i]
                self.report.error(where, f"'{foreign[key]}', another organisation's name, appears in "
                                  f"{what} of {self.org.id}'s {doc.policy_id}",
                                  "Use {{ organisation }} (or this organisation's own name) instead.")
