"""The JSON Schema in schemas/ against the loader (issue 11).

The schema files are made from policypack/sourceformat.py, as are the loader's key sets. Here:
the committed files are what the declaration makes; every shipped YAML file validates; and over
the bad-input corpus (tests/bad_inputs/) the schema rejects every case policypack rejects, except
the cases listed in BEYOND_SCHEMA, each with the reason no schema can catch it.
"""
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft7Validator, Draft202012Validator

from policypack import sourceformat as sf
from policypack.cli import main
from policypack.errors import Failed, Report
from policypack.load import load_project
from policypack.yamlread import read_yaml
from test_bad_inputs import CASES, HERE, apply_edits

ROOT = Path(__file__).resolve().parent.parent
VALIDATORS = {k.name: Draft202012Validator(sf.json_schema(k), format_checker=Draft202012Validator.FORMAT_CHECKER)
              for k in sf.FILES}
# the same schema read by draft-07 rules, as older YAML language servers read it
VALIDATORS_07 = {k.name: Draft7Validator(sf.json_schema(k), format_checker=Draft7Validator.FORMAT_CHECKER)
                 for k in sf.FILES}

_YAML = "the YAML itself cannot be read (an editor's YAML parser reports it; a schema sees only the values)"
_REF = "an id that must name something elsewhere in the project"
_JINJA = "the text's template (Jinja) or Markdown, which only rendering checks"
_FILES = "what a file on disk holds, which a schema of one YAML file cannot see"
_RESOLVED = "the policy once the layers are applied"
BEYOND_SCHEMA = {
    # YAML: syntax, duplicate keys, tags, aliases, control characters, nesting, size
    "billion-laughs": _YAML, "duplicate-key-policy": _YAML, "duplicate-key-school": _YAML,
    "python-tag": _YAML, "sec-input-alias-bytes": _YAML, "sec-input-alias-recursive": _YAML,
    "sec-input-control-escape-name": _YAML, "sec-input-deep-flow": _YAML, "sec-input-deep-nesting": _YAML,
    "sec-input-empty-school": _YAML, "sec-input-key-escape": _YAML, "sec-input-lone-surrogate": _YAML,
    "sec-input-noncharacter": _YAML, "sec-input-raw-control": _YAML, "sec-input-vertical-tab-variable": _YAML,
    "yaml-syntax-library": _YAML, "yaml-syntax-policy": _YAML, "yaml-syntax-school": _YAML, "yaml-tab-indent": _YAML,
    # what ids refer to, and ids that must be unique across files
    "bad-default-variant": "default_variant must name one of the clause's own variants (a key of a sibling mapping)",
    "bad-numbering": _REF + " (a numbering scheme of the organisation's chain)",
    "numbering-unknown-scheme": _REF + " (a numbering scheme of the organisation's chain)",
    "change-unknown-id": _REF, "duplicate-clause-id": "ids unique across the whole policy and its includes",
    "duplicate-library-id": "ids unique across all library files", "part-duplicate-id": "ids unique across the policy",
    "enable-not-optional": _REF + " (an optional clause)", "fill-not-slot": _REF + " (a customisable slot)",
    "extends-cycle": _REF + " (the organisations above, without a cycle)",
    "extends-self": _REF + " (the organisations above, without a cycle)", "extends-unknown": _REF,
    "sec-input-extends-academy-by-trust": _REF + " (only an authority, trust or federation can be extended)",
    "sec-input-extends-school": _REF + " (only an authority, trust or federation can be extended)",
    "id-file-mismatch": "the id must match the file's name", "insert-duplicate-id": _REF,
    "insert-unknown-anchor": _REF, "move-unknown-id": _REF, "remove-unknown-id": _REF,
    "override-unknown-id": _REF + " (a clause with variants)", "override-unknown-variant": _REF + " (a variant)",
    "unknown-include": _REF + " (a library section)", "unknown-policy": _REF + " (a policy file)",
    "own-policy-clash-ancestor": "an own policy's id must differ from those of the organisations above",
    "own-policy-clash-model": "an own policy's id must differ from the model's policies",
    "own-policy-not-visible": _REF + " (a policy of the organisation's chain)",
    "xref-removed": _REF, "xref-switched-off": _REF, "xref-unknown": _REF,
    "move-clause-next-to-section": _RESOLVED, "move-into-own-subtree": _RESOLVED, "move-section-into-clause": _RESOLVED,
    "locked-clause-remove": _RESOLVED + " (a lock set in another file)",
    "locked-remove": _RESOLVED + " (a lock set in another file)",
    "locked-remove-gives-moves": _RESOLVED + " (a lock set in another file)",
    "locked-replace": _RESOLVED + " (a lock set in another file)",
    "unfilled-slot": _RESOLVED + " (a slot no layer fills)",
    "builtin-variable": _RESOLVED + " (a variable policypack sets itself)",
    "numbering-collide": "how a numbering scheme's labels look beside the lists in text (numbering.problems)",
    "numbering-same-twice": "how a numbering scheme's labels look (numbering.problems)",
    "numbering-placeholder": "the placeholders inside a numbering pattern",
    "sec-input-name-bidi": "look-alike characters in an organisation's name (names.py)",
    "sec-input-name-mixed-script": "look-alike characters in an organisation's name (names.py)",
    "sec-input-name-nbsp": "look-alike characters in an organisation's name (names.py)",
    "sec-input-name-zero-width": "look-alike characters in an organisation's name (names.py)",
    "sec-input-name-duplicate": "names unique across organisations",
    "sec-input-name-lookalike-duplicate": "names unique across organisations",
    "foreign-name": "another organisation's name in the text", "sec-input-foreign-name-lookalike":
    "another organisation's name in the text", "sec-input-foreign-name-zero-width": "another organisation's name in the text",
    # the text
    "form-label-two-paragraphs": _JINJA, "form-undefined-variable": _JINJA, "http-link": _JINJA,
    "javascript-link": _JINJA, "jinja-sandbox": _JINJA, "sec-eval-divide-by-zero": _JINJA,
    "sec-eval-nested-brackets": _JINJA, "sec-eval-power": _JINJA, "sec-eval-recursive-macro": _JINJA,
    "sec-eval-ref-capitalize": _JINJA, "sec-eval-repeat-variable": _JINJA, "template-syntax": _JINJA,
    "text-horizontal-rule": _JINJA, "undefined-variable-school": _JINJA, "undefined-variable": _JINJA,
    # files on disk
    "logo-outside": _FILES, "sec-input-logo-folder": _FILES, "sec-input-png-not-png": _FILES,
    "sec-input-svg-entity": _FILES, "sec-input-svg-external-href": _FILES, "sec-input-svg-not-svg": _FILES,
    "sec-input-svg-viewbox": _FILES, "sec-build-model-revision-outside": _FILES + " (a folder named by model_revision)",
    "sec-render-body-replace": _FILES + " (a template override)", "sec-render-drop-body": _FILES + " (a template override)",
    "sec-render-not-utf8": _FILES + " (a template override)", "sec-render-safe-filter": _FILES + " (a template override)",
    "sec-render-set-block-replace": _FILES + " (a template override)",
    "sec-build-template-error-fails-alone": _FILES + " (a template override)",
    "sec-eval-page-repeat": _FILES + " (a template override)",
    "sec-build-out-not-a-folder": "the command's --out folder, not a YAML file",
}


def schema_problems(root: Path) -> dict:
    """{file: [(path, message)]} for every YAML file under `root` that policypack reads, by the JSON
    Schema of its kind; a file whose YAML cannot be read maps to [(None, "unreadable")]."""
    out = {}
    for path in sorted(root.glob("**/*.yaml")):
        rel = path.relative_to(root).as_posix()
        kind = sf.kind_of(rel)
        if kind is None:
            continue
        report = Report()
        try:
            data = read_yaml(path.read_bytes().decode("utf-8").removeprefix("\ufeff"), rel, report)
        except UnicodeDecodeError:
            data, report = None, None
        if report is None or report.errors:
            out[rel] = [(None, "unreadable")]
            continue
        errors = [(tuple(e.absolute_path), e.message) for e in VALIDATORS[kind.name].iter_errors(data)]
        assert bool(errors) != VALIDATORS_07[kind.name].is_valid(data), f"draft-07 reads {rel} otherwise"
        if errors:
            out[rel] = errors
    return out


def test_schema_files_are_current():
    """schemas/ holds exactly what the declaration makes (run `python build.py schema` after changing it)."""
    written = {p.name for p in (ROOT / "schemas").glob("*.json")}
    assert written == {f"{k.name}.schema.json" for k in sf.FILES}
    for kind in sf.FILES:
        Draft202012Validator.check_schema(sf.json_schema(kind))
        Draft7Validator.check_schema(sf.json_schema(kind))
        on_disk = (ROOT / "schemas" / f"{kind.name}.schema.json").read_text(encoding="utf-8")
        assert on_disk == sf.schema_text(kind), f"schemas/{kind.name}.schema.json is stale: run python build.py schema"


def test_schema_command_writes_and_checks(tmp_path):
    runner = CliRunner()
    out = tmp_path / "schemas"
    result = runner.invoke(main, ["schema", "--root", str(ROOT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert first == {f"{k.name}.schema.json": (ROOT / "schemas" / f"{k.name}.schema.json").read_bytes() for k in sf.FILES}
    result = runner.invoke(main, ["schema", "--root", str(ROOT), "--out", str(out), "--check"])
    assert result.exit_code == 0, result.output
    (out / "policy.schema.json").write_text("{}", encoding="utf-8")  # stale: --check fails, naming it
    result = runner.invoke(main, ["schema", "--root", str(ROOT), "--out", str(out), "--check"])
    assert result.exit_code == 1 and "policy.schema.json: error: out of date" in result.output
    result = runner.invoke(main, ["schema", "--root", str(ROOT), "--out", str(out)])
    assert result.exit_code == 0 and {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_every_key_has_a_description():
    """Editors show a key's description on hover and beside each completion."""
    for kind in sf.FILES:
        schema = sf.json_schema(kind)
        for name, record in schema["$defs"].items():
            assert record.get("description"), name
            for key, prop in record["properties"].items():
                assert prop.get("description"), f"{name}.{key} has no description"


def test_loader_key_sets_come_from_the_declaration():
    from policypack import load
    assert load.NODE_KEYS == set(sf.CLAUSE.fields) and "form" in load.NODE_KEYS
    assert load.LAYER_KEYS == set(sf.LAYER.fields) and load.ORG_KEYS == set(sf.ORGANISATION.fields)
    assert load.ADOPTION_DATES == {"date", "written_date", "agreed_date", "created"}
    assert load.POLICY_FIELDS == {"title", "reference", "kind", "version", "key_message", "numbering", "summary", "owner"}


@pytest.mark.parametrize("project", [ROOT, HERE / "base", ROOT / "tests/fixtures/mini", ROOT / "tests/fixtures/parts"],
                         ids=["shipped", "bad-inputs-base", "fixture-mini", "fixture-parts"])
def test_every_file_of_a_clean_project_validates(project):
    load_project(project)  # the loader accepts it ...
    files = [p for p in project.glob("**/*.yaml") if sf.kind_of(p.relative_to(project).as_posix())]
    assert len(files) >= 3
    assert schema_problems(project) == {}  # ... and so does the schema


def _case(case: Path, tmp_path: Path):
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    root = tmp_path / "p"
    shutil.copytree(HERE / "base", root)
    apply_edits(root, spec.get("edit", []))
    return spec, root


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_schema_rejects_what_policypack_rejects(case, tmp_path):
    """A case policypack rejects (exit 1; test_bad_inputs checks that with the CLI) is rejected by
    the schema, in a file the loader names, unless BEYOND_SCHEMA says why no schema can; a case it
    accepts (warnings only) the schema accepts too."""
    spec, root = _case(case, tmp_path)
    rejected = spec.get("exit", 1) == 1
    problems = schema_problems(root)
    readable = {f: p for f, p in problems.items() if p != [(None, "unreadable")]}
    report = Report()
    try:
        load_project(root, report)
    except Failed:
        pass
    if not rejected:
        assert case.stem not in BEYOND_SCHEMA
        assert problems == {}, f"the schema rejects what policypack accepts: {problems}"
    elif case.stem in BEYOND_SCHEMA:
        assert not readable, f"the schema catches {case.stem} after all ({readable}): take it off BEYOND_SCHEMA"
    else:
        assert readable, f"policypack rejects {case.stem} ({spec['what']}) but the schema accepts every file"
        named = {e.loc.file for e in report.errors} | {m.group(1) for line in spec["expect"]
                                                       if (m := re.match(r"([\w./-]+\.yaml):", line))}
        assert set(readable) & named, f"the schema rejects {set(readable)}, policypack {named}"
        # and at the same field: the loader's field path lies within one the schema names
        # (the schema says "this mapping has an unknown key", the loader names the key)
        loader_paths = {(e.loc.file, e.path) for e in report.errors if e.path is not None}
        schema_paths = {(f, path) for f, errors in readable.items() for path, _ in errors}
        assert any(f == g and lp[:len(sp)] == sp for f, lp in loader_paths for g, sp in schema_paths), \
            f"the loader says {loader_paths}, the schema {schema_paths}"


def test_every_listed_case_exists():
    assert set(BEYOND_SCHEMA) <= {c.stem for c in CASES}


def test_a_weaker_schema_is_caught(tmp_path):
    """The comparison can fail: without its 'no other keys' rule, the schema lets a misspelt key through."""
    spec, root = _case(HERE / "cases" / "unknown-key-clause.yaml", tmp_path)
    assert "policy_src/demo.yaml" in schema_problems(root)
    weak = sf.json_schema(sf.FILES[1])
    for d in weak["$defs"].values():
        d.pop("additionalProperties", None)
    data = read_yaml((root / "policy_src/demo.yaml").read_text(encoding="utf-8"), "demo", Report())
    assert not list(Draft202012Validator(weak).iter_errors(data))


# Keywords that draft-07 and draft 2020-12 both define: older YAML language servers (VS Code's YAML
# extension before its 2020-12 support) read schemas by draft-07 rules, so the schema keeps to what
# both read alike ($defs is reached by a plain JSON pointer in either).
COMMON_KEYWORDS = {"$schema", "$ref", "$defs", "title", "description", "examples", "type", "properties", "required",
                   "additionalProperties", "propertyNames", "items", "minItems", "maxItems", "minProperties",
                   "maxProperties", "minLength", "enum", "const", "pattern", "maxLength", "minimum", "maximum", "format", "anyOf",
                   "allOf", "oneOf", "not", "if", "then", "else"}


def test_schema_keeps_to_keywords_draft_07_tools_read():
    def walk(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                assert key in COMMON_KEYWORDS, f"{key} at {where}"
                if key == "properties" or key == "$defs":
                    for name, sub in value.items():
                        walk(sub, f"{where}/{key}/{name}")
                elif key not in ("enum", "const", "examples", "required"):
                    walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}/{i}")
    for kind in sf.FILES:
        walk(sf.json_schema(kind), kind.name)


# ---- every value changed, one at a time: the loader and the schema agree ----------------------

# An organisation that uses most of the layer format, beside the bad-input base project.
TRUST = """\
organisation:
  id: demo-trust
  name: Demo Learning Trust
  kind: trust
  extends: demo-la
  numbering: ours
  numbering_schemes:
    ours:
      summary: Sections, then clauses.
      levels:
        - {number: "{1}"}
        - {number: "{1}.{2}", ref: "paragraph {number}", pad: 0, continuous: false}
      appendices: {format: upper-alpha, label: "Annex {n}", prefix: ""}
      parts: part-roman
      lists: [lower-roman, decimal]
  variables:
    head: Chief Executive
  branding:
    colour: "#1d4f91"
    font: Liberation Serif
  adoption:
    body: Trust Board
    date: 2025-05-16
    chairs: [Ruth Example]
  running:
    header: Demo Learning Trust
  history:
    place: front
    include: own
  cover:
    - label: Audience
      value: All staff
      place: details
  approvals:
    - label: CEO approval
      name: A Example
      date: 2025-09-01
  review:
    last_reviewed: 2025-09-01
    cycle_months: 24
  review_history: [2024-09-01]
  model_revision: v1
  policies:
    demo:
      title: Demo protocol
      kind: protocol
      fill:
        local-contacts: Ask the trust office.
      insert:
        - after: app-help
          appendix:
            id: trust-form
            title: Trust form
            form:
              - field: Full name
                lines: 2
              - signature: Signed
                date: false
              - choices: [Yes please, No thanks]
                label: Choose
              - table: [First, Second]
                columns: [Date]
              - tick: I agree
      changes:
        - {date: 2025-09-01, summary: Added the trust form., clauses: [trust-form], version: "1.1", author: A Example}
"""
MUTATIONS = {"delete": None, "true": True, "list": ["x"], "map": {"x": "y"}, "number": 7, "words": "Some Words",
             "empty": "", "extra": None}  # extra: an unknown key added to a mapping
_DEFAULT_VARIANT = "default_variant must name one of the clause's variants"
_LIBRARY = "a policy includes this library section"
DISAGREE = {  # (file, path, mutation): why the loader refuses what the schema cannot see
    ("policy_src/demo.yaml", "policy.sections.0.clauses.1.variants", "map"): _DEFAULT_VARIANT,
    ("policy_src/demo.yaml", "policy.sections.0.clauses.1.variants.breaks", "delete"): _DEFAULT_VARIANT,
    ("policy_src/demo.yaml", "policy.sections.0.clauses.1.default_variant", "number"): _DEFAULT_VARIANT,
    ("policy_src/demo.yaml", "policy.sections.0.clauses.1.default_variant", "words"): _DEFAULT_VARIANT,
    ("policy_src/demo.yaml", "policy.sections.0.clauses.1.default_variant", "empty"): _DEFAULT_VARIANT,
    ("policy_src/library/common.yaml", "library.sections", "delete"): _LIBRARY,
    ("policy_src/library/common.yaml", "library.sections.0", "delete"): _LIBRARY,
    ("schools/demo-trust.yaml", "organisation.numbering_schemes", "delete"): "'numbering: ours' names the scheme",
    ("schools/demo-trust.yaml", "organisation.numbering_schemes.ours", "delete"): "'numbering: ours' names the scheme",
    ("schools/demo-trust.yaml", "organisation.numbering_schemes.ours.levels.0", "delete"):
        "level 1 is then \"{1}.{2}\": which counters a level may use depends on its place (numbering.problems)",
}


def _values(v, path=()):
    """(path, value) of every value inside `v`, outermost first."""
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, x in items:
        yield path + (k,), x
        yield from _values(x, path + (k,))


def _plain(v):
    """The values read by policypack's YAML reader, as plain dicts and lists for yaml.dump."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return str(v) if isinstance(v, str) else v


@pytest.mark.parametrize("rel", ["schools/demo-trust.yaml", "policy_src/demo.yaml", "policy_src/library/common.yaml"])
def test_loader_and_schema_agree_on_every_changed_value(rel, tmp_path):
    """Each value of the file is deleted, or replaced by true, a list, a mapping, a number, some
    words or nothing, and each mapping gets an unknown key, one change at a time: the loader and
    the schema accept or refuse each changed project alike, except the cases in DISAGREE."""
    import copy
    root = tmp_path / "p"
    shutil.copytree(HERE / "base", root)
    (root / "schools/demo-trust.yaml").write_text(TRUST, encoding="utf-8")
    load_project(root)
    assert schema_problems(root) == {}
    original = (root / rel).read_text(encoding="utf-8")
    data = _plain(read_yaml(original, rel, Report()))
    validator = VALIDATORS[sf.kind_of(rel).name]
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    found, tried = {}, 0
    for path, value in list(_values(data)):
        for name, new in MUTATIONS.items():
            if name == "extra" and not isinstance(value, dict):
                continue
            doc = copy.deepcopy(data)
            parent = doc
            for k in path[:-1]:
                parent = parent[k]
            if name == "delete":
                del parent[path[-1]]
            elif name == "extra":
                parent[path[-1]]["zzz"] = 1
            else:
                parent[path[-1]] = new
            text = yaml.dump(doc, Dumper=dumper, sort_keys=False, allow_unicode=True)
            (root / rel).write_text(text, encoding="utf-8")
            tried += 1
            try:
                load_project(root)
                loader = False
            except Failed:
                loader = True
            changed = read_yaml(text, rel, Report())
            schema = not validator.is_valid(changed)
            assert schema != VALIDATORS_07[sf.kind_of(rel).name].is_valid(changed), f"draft-07 reads {path} otherwise"
            if loader != schema:
                found[(rel, ".".join(map(str, path)), name)] = "the loader" if loader else "the schema"
    (root / rel).write_text(original, encoding="utf-8")
    assert tried > 50
    assert found == {k: "the loader" for k in DISAGREE if k[0] == rel}
