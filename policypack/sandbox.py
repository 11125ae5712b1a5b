"""Bounded template evaluation: one sandboxed Jinja environment for every untrusted template.

Clause text (YAML, rendered in resolve.py) and page templates (an organisation's template
overrides, rendered in render/html.py) are written by people we do not trust with the machine.
Jinja's own sandbox stops them reaching Python internals, but not from asking for a lot of work:
`{{ 9**999999999 }}`, `{{ head * 100000000 }}`, a macro that calls itself, a template that
extends itself, loops inside loops. `BoundedEnvironment` refuses each of those BEFORE doing the
work, with a message a school business manager can act on:

* arithmetic: `**` and `*` on numbers whose result would have more than MAX_DIGITS digits;
* repetition and growth: `*`, `+`, `~`, `%` / `.format()` widths, and the str methods and
  filters that make longer text (center, ljust, zfill, join, replace, indent, wordwrap, batch,
  slice ...) are estimated first and refused when the result would pass the text limit;
* total work: every loop iteration and every run of a loop body, macro, block or template is
  charged its size in template nodes; past `step_limit` the render stops;
* total output: the text a render produces (the page, a macro's result, a `{% set %}` block) is
  counted as it is made and stops at `output_limit`; all intermediate text made by the template
  counts against `WORK_FACTOR` times that;
* nesting: macros, recursive loops and `self.block()` calls at most MAX_CALL_DEPTH deep; a template that extends,
  includes or imports itself stops while the interpreter still has stack to spare; a template
  whose syntax tree nests deeper than MAX_NESTING is refused at compile time; a RecursionError or
  MemoryError at compile or render time becomes an error too;
* printing: a function or an object that is not plain text, a number or a list of them cannot be
  printed (its repr would hold a memory address, and builds would no longer be byte-identical);
* Python errors inside a template (ZeroDivisionError, TypeError, ValueError, OverflowError ...)
  become a `TemplateValueError` with a readable message and the template line.

Every error here is a `jinja2.TemplateError` (the limits are `jinja2.exceptions.SecurityError`),
so callers that catch TemplateError report them in their `file:line: error:` form. Each carries
`lineno` (the line in the template, when known), `filename` and a `hint` saying what to do.
"""
from __future__ import annotations

import contextvars
import functools
import math
import re
import string
import sys
import time
import traceback
import types
import typing as t

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, optimizeconst
from jinja2.exceptions import SecurityError, TemplateError, TemplateRuntimeError
from jinja2.runtime import BlockReference, LoopContext, Macro, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg
from markupsafe import Markup

MAX_DIGITS = 1000  # the longest whole number a template may work out
MAX_INT_BITS = MAX_DIGITS * math.log2(10)  # a whole number with more digits has at least this many bits
MAX_CALL_DEPTH = 50  # macros calling macros, recursive loops
MAX_NESTING = 60  # depth of a template's syntax tree (Python's compiler allows 20 nested loops)
STACK_HEADROOM = 250  # frames left to the interpreter when a template nests templates
WORK_FACTOR = 4  # all text made along the way, as a multiple of the output limit
CLAUSE_OUTPUT = 2_000_000  # one clause text
PAGE_OUTPUT = 20_000_000  # one HTML page
CLAUSE_STEPS = 200_000
PAGE_STEPS = 1_500_000
TIME_LIMIT = 20.0  # seconds for one render: a last resort, the other limits come first


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class TemplateLimitError(SecurityError):
    """A template asked for more than a template may: too long, too large, too deep, too slow."""

    hint = "Simplify the template: it may use variables, conditions and short loops, not repeat or compute at scale."

    def __init__(self, message: str, lineno: t.Optional[int] = None, filename: t.Optional[str] = None):
        super().__init__(message)
        self.lineno = lineno
        self.filename = filename


class TextTooLong(TemplateLimitError):
    hint = "Do not repeat text with *, loops or filters such as center() and join(); write the text out."


class NumberTooLarge(TemplateLimitError):
    hint = "Do not compute with numbers in the template; write the number you mean."


class TooMuchWork(TemplateLimitError):
    hint = "Loop over the data you were given, once; do not nest loops over long texts or lists."


class TooDeep(TemplateLimitError):
    hint = ("Do not let a macro or loop call itself, or a template extend, include or import itself; "
            "nest brackets and tags less deeply.")


class NotText(TemplateLimitError):
    hint = "Print variables and the results of functions, not the functions themselves."


class TemplateValueError(TemplateRuntimeError):
    """A Python error inside a template (division by zero, wrong types ...), made readable."""

    hint = "Check the expression on that line: the values it combines do not fit together."

    def __init__(self, message: str, lineno: t.Optional[int] = None, filename: t.Optional[str] = None):
        super().__init__(message)
        self.lineno = lineno
        self.filename = filename


BoundedErrors = (TemplateLimitError, TemplateValueError)


def size_text(n: int) -> str:
    """2000000 -> '2 MB'; 20000 -> '20 KB'; 500 -> '500 characters'."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:g} MB"
    if n >= 1_000:
        return f"{n / 1_000:g} KB"
    return f"{n} characters"


# --------------------------------------------------------------------------------------------
# The budget of one render
# --------------------------------------------------------------------------------------------


class Budget:
    """What one render may still spend. One per top-level render, shared by what it includes."""

    __slots__ = ("output_limit", "work_limit", "step_limit", "work", "steps", "depth", "deadline")

    def __init__(self, env: "BoundedEnvironment"):
        self.output_limit = env.output_limit
        self.work_limit = env.output_limit * WORK_FACTOR
        self.step_limit = env.step_limit
        self.work = 0
        self.steps = 0
        self.depth = 0
        self.deadline = time.monotonic() + env.time_limit


_BUDGET: contextvars.ContextVar[t.Optional[Budget]] = contextvars.ContextVar("policypack_template_budget",
                                                                               default=None)


def _stack_depth() -> int:
    frame, n = sys._getframe(1), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def _callable_name(value) -> str:
    if isinstance(value, LoopContext):
        return "loop"
    name = getattr(value, "name", None) if isinstance(value, Macro) else getattr(value, "__name__", None)
    return name if isinstance(name, str) and name.isidentifier() else ""


# --------------------------------------------------------------------------------------------
# Compile time: nesting depth, and where the render charges its work
# --------------------------------------------------------------------------------------------


def _weigh(tree: nodes.Template) -> dict:
    """Check the tree's depth (iteratively, so a deep tree cannot exhaust the stack here) and
    return {id(node): number of nodes in its subtree} for the nodes that get a Charge."""
    order, stack = [], [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise TooDeep(f"the template nests brackets, operators or tags more than {MAX_NESTING} levels deep",
                          lineno=getattr(node, "lineno", None))
        order.append(node)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    size: dict = {}
    for node in reversed(order):  # children before parents
        size[id(node)] = 1 + sum(size[id(c)] for c in node.iter_child_nodes())
    return size


def _instrument(tree: nodes.Template, charge_root: bool = True) -> nodes.Template:
    """Charge every body that runs repeatedly (loop bodies, macros, call blocks, blocks and the
    template itself) its size at the top, as `environment.charge(N)`; count loop items with
    `environment.bounded_iter(...)`. (Jinja allows no custom node types: these are built from an
    EnvironmentAttribute, which compiles to `environment.<name>` verbatim.)"""
    size = _weigh(tree)
    bodies = [tree] if charge_root else []
    bodies += tree.find_all((nodes.For, nodes.Macro, nodes.CallBlock, nodes.Block))
    for node in bodies:
        charge = nodes.ExprStmt(nodes.EnvironmentAttribute(f"charge({int(size[id(node)])})", lineno=node.lineno),
                                lineno=node.lineno)
        node.body.insert(0, charge)
        if isinstance(node, nodes.For):
            node.iter = nodes.Call(nodes.EnvironmentAttribute(_BOUNDED_ITER), [node.iter], [], None, None,
                                   lineno=node.iter.lineno)
    return tree


_BOUNDED_ITER = "bounded_iter"


_REPEATING = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.Block, nodes.Include, nodes.Extends, nodes.Import,
              nodes.FromImport)


class BoundedCodeGenerator(CodeGenerator):
    def visit_Template(self, node: nodes.Template, frame=None) -> None:
        """Also records whether the template can repeat its output (loops, macros, other
        templates): only then is its output measured piece by piece as it is made."""
        super().visit_Template(node, frame)
        self.writeline(f"policypack_repeats = {next(node.find_all(_REPEATING), None) is not None!r}")

    def visit_Call(self, node: nodes.Call, frame, forward_caller: bool = False) -> None:
        """A loop's iterable, wrapped by `_instrument`: called directly, not through
        environment.call, so the items are counted once."""
        if isinstance(node.node, nodes.EnvironmentAttribute) and node.node.name == _BOUNDED_ITER:
            self.write("environment.bounded_iter(")
            self.visit(node.args[0], frame)
            self.write(")")
            return
        super().visit_Call(node, frame, forward_caller=forward_caller)

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame) -> None:
        """`a ~ b`: the parts are measured (and refused if too long or not text) before joining."""
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"{func_name}(environment.concat_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


def _parser_lineno(tb) -> t.Optional[int]:
    """The line the parser had reached when it ran out of stack."""
    line = None
    for frame, _ in traceback.walk_tb(tb):
        parser = frame.f_locals.get("self")
        if isinstance(parser, jinja2.parser.Parser):
            line = parser.stream.current.lineno
    return line


def _template_frame(tb) -> tuple:
    """(filename, line) of the innermost template frame in a (rewritten) traceback."""
    filename = line = None
    for frame, lineno in traceback.walk_tb(tb):
        g = frame.f_globals
        if "__jinja_exception__" in g or "__jinja_template__" in g:
            filename, line = frame.f_code.co_filename, lineno
    return (None if filename in (None, "<template>") else filename), line


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _readable(exc: BaseException) -> str:
    if isinstance(exc, ZeroDivisionError):
        return "the template divides by zero"
    if isinstance(exc, OverflowError):
        return "the template works out a number too large to use"
    if isinstance(exc, RecursionError):
        return "the template nests too deeply: a macro, loop or template calls itself"
    if isinstance(exc, MemoryError):
        return "the template needs more memory than this machine has"
    text = _ADDRESS.sub("", str(exc)) or type(exc).__name__
    return f"the template cannot work out a value: {text[:300]}"


# --------------------------------------------------------------------------------------------
# Estimates: how long a result would be, worked out before the work is done
# --------------------------------------------------------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)")
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_NUMBER = (int, float)


def _int_bits(value) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


class BoundedTemplate(jinja2.Template):
    """A template whose `render` runs inside a budget and reports every failure as a TemplateError."""

    repeats = True

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):
        template = super()._from_namespace(environment, namespace, globals)
        template.repeats = namespace.get("policypack_repeats", True)
        return template

    def render(self, *args: t.Any, **kwargs: t.Any) -> str:
        env = self.environment
        token = _BUDGET.set(Budget(env)) if _BUDGET.get() is None else None
        try:
            ctx = self.new_context(dict(*args, **kwargs))
            try:
                try:
                    if self.repeats:
                        out = env.concat(self.root_render_func(ctx))
                    else:  # straight-line text: each piece is bounded already, so join at C speed
                        out = "".join(self.root_render_func(ctx))
                        env.too_long(len(out))
                except (RecursionError, MemoryError) as exc:
                    raise (TooDeep if isinstance(exc, RecursionError) else TextTooLong)(_readable(exc)) from None
                except Exception:
                    env.handle_exception()  # re-raises with the template's lines in the traceback
            except BoundedErrors as exc:
                if exc.lineno is None:
                    exc.filename, exc.lineno = _template_frame(exc.__traceback__)
                raise
            except TemplateError:
                raise
            except Exception as exc:
                filename, line = _template_frame(exc.__traceback__)
                raise TemplateValueError(_readable(exc), line, filename).with_traceback(exc.__traceback__) from None
            if _ADDRESS.search(out) and re.search(r"<[^<>\n]* at 0x[0-9a-fA-F]+>", out):
                raise NotText("the template prints a Python object, not text")
            return out
        finally:
            if token is not None:
                _BUDGET.reset(token)


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounded power, repetition, loops, recursion and output.

    `output_limit` is the longest text one render may produce (characters); `step_limit` the
    work it may do, in template nodes run; `call_examples` maps a function's name to how it
    should be called, for the message when a template prints the function itself."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])
    code_generator_class = BoundedCodeGenerator
    template_class = BoundedTemplate

    def __init__(self, *args, output_limit: int = CLAUSE_OUTPUT, step_limit: int = CLAUSE_STEPS,
                 time_limit: float = TIME_LIMIT, call_examples: t.Optional[dict] = None, **kwargs):
        kwargs.setdefault("finalize", self._finalize)
        super().__init__(*args, **kwargs)
        self.output_limit = output_limit
        self.step_limit = step_limit
        self.time_limit = time_limit
        self.call_examples = dict(call_examples or {})
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items() if name != "random"}

    # ---- the budget ------------------------------------------------------------------------
    def budget(self) -> Budget:
        """The running render's budget; outside a render (constant folding at compile time, a bare
        generate()), a fresh one, so each operation is still bounded on its own."""
        return _BUDGET.get() or Budget(self)

    def too_long(self, n: int, budget: t.Optional[Budget] = None) -> None:
        budget = budget or self.budget()
        if n > budget.output_limit:
            raise TextTooLong(f"the template makes a text longer than {size_text(budget.output_limit)}")

    def spend(self, n: int) -> None:
        budget = self.budget()
        self.too_long(n, budget)
        budget.work += n
        if budget.work > budget.work_limit:
            raise TextTooLong(f"the template makes more than {size_text(budget.work_limit)} of text in all")

    def charge(self, weight: int) -> None:
        budget = self.budget()
        budget.steps += weight
        if budget.steps > budget.step_limit:
            raise TooMuchWork(f"the template does too much work: its loops, macros and templates would run "
                              f"more than {budget.step_limit:,} steps")
        if time.monotonic() > budget.deadline:
            raise TooMuchWork(f"the template takes more than {self.time_limit:g} seconds to work out")

    def bounded_iter(self, iterable):
        """A loop's items, each charged one step; a sized iterable is charged all at once."""
        if isinstance(iterable, (list, tuple, str, dict, range, Markup)):
            self.charge(len(iterable))
            return iterable
        if isinstance(iterable, Undefined):
            return iterable
        return self._counted(iterable)

    def _counted(self, iterable):
        for item in iterable:
            self.charge(1)
            yield item

    def check_stack(self) -> None:
        if _stack_depth() > sys.getrecursionlimit() - STACK_HEADROOM:
            raise TooDeep("templates extend, include or import each other too deeply (or in a circle)")

    # ---- text ------------------------------------------------------------------------------
    def concat(self, parts) -> str:  # type: ignore[override]
        """Joins a render's output, a macro's or a block's: counted as it is made."""
        budget = self.budget()
        limit = budget.output_limit
        if parts.__class__ is list:  # a macro's or block's buffer: already made, measured at C speed
            out, total = parts, sum(map(len, parts))
            if total > limit:
                raise TextTooLong(f"the template makes a text longer than {size_text(limit)}")
        else:  # a render's output as it is made: stop at the limit
            total, out = 0, []
            append = out.append
            for part in parts:
                total += len(part)
                if total > limit:
                    raise TextTooLong(f"the template makes a text longer than {size_text(limit)}")
                append(part)
        budget.work += total
        if budget.work > budget.work_limit:
            raise TextTooLong(f"the template makes more than {size_text(budget.work_limit)} of text in all")
        return "".join(out)

    def concat_parts(self, parts: tuple) -> tuple:
        """`a ~ b ~ c`: refused before joining if the result is too long or a part is not text."""
        total = 0
        for part in parts:
            if isinstance(part, str):
                total += len(part)
            elif not isinstance(part, Undefined):
                self.printable(part)
                total += len(str(part))
        self.spend(total)
        return parts

    def printable(self, value) -> None:
        """Refuse what would print a function's repr (with a memory address) or a huge number."""
        if isinstance(value, (str, Undefined)) or value is None:
            return
        if isinstance(value, int):
            if _int_bits(value) - 1 >= MAX_INT_BITS:
                raise NumberTooLarge(f"the template makes a number with more than {MAX_DIGITS:,} digits")
            return
        if isinstance(value, float) or hasattr(value, "__html__"):  # markup objects print their own HTML
            return
        if isinstance(value, (list, tuple)):
            for item in value:
                self.printable(item)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                self.printable(k)
                self.printable(v)
            return
        if callable(value):
            name = _callable_name(value)
            if name:
                example = self.call_examples.get(name, f"{name}(…)")
                raise NotText(f"'{name}' is a function: write {example}")
            raise NotText("the template prints a function, not text")
        raise NotText(f"the template prints a {type(value).__name__} object, not text")

    def _finalize(self, value):
        if isinstance(value, str):  # counted: a `{% set %}` block or a macro buffers its output
            budget = _BUDGET.get()
            if budget is not None:
                budget.work += len(value)
                if budget.work > budget.work_limit:
                    raise TextTooLong(f"the template makes more than {size_text(budget.work_limit)} of text in all")
            return value
        if value.__class__ is bool or value.__class__ is float:
            return value
        self.printable(value)
        return value

    def check_printf(self, fmt: str, args) -> None:
        """`'%999999999s' % x`: widths and precisions within the limit, no `*` widths."""
        total = len(fmt)
        for width, precision, _ in _PRINTF.findall(fmt):
            if width == "*" or precision == "*":
                raise TextTooLong("the template sets a width with '*' in a % format: write the width as a number")
            total += int(width or 0) + int(precision or 0)
        values = args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
        for value in values:
            self.printable(value)
            total += len(value) if isinstance(value, str) else 0
        self.spend(total)

    def check_format(self, fmt: str, args, kwargs) -> None:
        """`'{:>999999999}'.format(x)`: widths within the limit, no nested replacement fields."""
        total = len(fmt)
        for _, field, spec, _ in string.Formatter().parse(fmt):
            if field is None or not spec:
                continue
            if "{" in spec:
                raise TextTooLong("the template takes a format width from a value: write the width as a number")
            total += sum(int(n) for n in re.findall(r"\d+", spec))
        for value in list(args) + list(kwargs.values()):
            if isinstance(value, dict):
                value = list(value.values())
            self.printable(value)
            total += len(value) if isinstance(value, str) else 0
        self.spend(total)

    # ---- operators and calls ---------------------------------------------------------------
    def call_binop(self, context, operator: str, left, right):
        if operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
                if right * math.log2(abs(left)) >= MAX_INT_BITS:
                    raise NumberTooLarge(f"the template works out a number with more than {MAX_DIGITS:,} digits")
        elif operator == "*":
            if isinstance(left, int) and isinstance(right, _SEQUENCES):
                left, right = right, left
                swapped = True
            else:
                swapped = False
            if isinstance(left, _SEQUENCES) and isinstance(right, int):
                self.spend(len(left) * max(right, 0))
                return right * left if swapped else left * right
            if isinstance(left, int) and isinstance(right, int) and \
                    _int_bits(left) + _int_bits(right) - 1 >= MAX_INT_BITS:
                raise NumberTooLarge(f"the template works out a number with more than {MAX_DIGITS:,} digits")
        elif operator == "+":
            if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
                self.spend(len(left) + len(right))
        elif operator == "%":
            if isinstance(left, str):
                self.check_printf(left, right)
        return self.binop_table[operator](left, right)

    def wrap_str_format(self, value):
        """Bound the str methods that make longer text; `format` and `format_map` as Jinja does,
        with their widths checked first."""
        fmt = super().wrap_str_format(value)
        if fmt is not None:
            f_self, is_map = value.__self__, value.__name__ == "format_map"

            def checked_format(*args, **kwargs):
                self.check_format(f_self, (args[0],) if is_map and args else args, kwargs)
                return fmt(*args, **kwargs)

            return checked_format
        if isinstance(value, (types.BuiltinMethodType, types.MethodType)) and value.__name__ in _GROWING:
            owner = getattr(value, "__self__", None)
            if isinstance(owner, (str, bytes, bytearray)):
                estimate = _GROWING[value.__name__]

                @functools.wraps(value)
                def bounded(*args, **kwargs):
                    args, n = estimate(self, owner, *args, **kwargs)
                    self.spend(n)
                    return value(*args, **kwargs)

                return bounded
        return None

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's convention)
        """Calls from templates: macros, recursive loops and `self.block()` nest at most
        MAX_CALL_DEPTH deep; what a call returns is counted."""
        if isinstance(__obj, (Macro, LoopContext, BlockReference)):
            budget = __self.budget()
            if budget.depth >= MAX_CALL_DEPTH:
                raise TooDeep(f"a macro, loop or block calls itself more than {MAX_CALL_DEPTH} levels deep")
            __self.check_stack()
            if isinstance(__obj, LoopContext) and args:
                args = (__self.bounded_iter(args[0]),) + args[1:]
            budget.depth += 1
            try:
                result = super().call(__context, __obj, *args, **kwargs)
            finally:
                budget.depth -= 1
        else:
            result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, _SEQUENCES) and len(result) > 4096:  # small results: counted when output
            __self.spend(len(result))
        return result

    # ---- compiling and loading -------------------------------------------------------------
    def _parse(self, source, name, filename):
        # A template's own run is charged only where templates can include or extend others (a
        # loader); a clause text runs once per render.
        return _instrument(super()._parse(source, name, filename), charge_root=self.loader is not None)

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        """Compile, turning a parser that runs out of stack, or Python's refusal of deeply nested
        code, into a TooDeep error."""
        try:
            return super().compile(source, name, filename, raw, defer_init)
        except TemplateLimitError as exc:
            exc.filename = exc.filename or filename
            raise
        except TemplateError:
            raise
        except (RecursionError, MemoryError, SyntaxError) as exc:
            line = _parser_lineno(exc.__traceback__) if isinstance(exc, RecursionError) else None
            raise TooDeep("the template nests brackets, operators or tags too deeply to read",
                          lineno=line, filename=filename) from None

    def _load_template(self, name, globals):
        if _BUDGET.get() is not None:  # a template extending, including or importing another
            self.check_stack()
        try:
            return super()._load_template(name, globals)
        except UnicodeDecodeError as exc:
            raise TemplateLimitError(f"the template '{name}' is not UTF-8 text (byte {exc.start + 1} cannot be read)",
                                     filename=name) from None


# --------------------------------------------------------------------------------------------
# Growth estimates for str methods and filters: (args to call with, characters made)
# --------------------------------------------------------------------------------------------


def _as_int(value) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _est_width(env, s, width=0, *rest, **kw):
    return (width,) + rest, max(len(s), _as_int(width))


def _est_expandtabs(env, s, tabsize=8, **kw):
    return (tabsize,), len(s) + s.count("\t" if isinstance(s, str) else b"\t") * max(_as_int(tabsize), 0)


def _materialise(env, iterable) -> list:
    items = list(env.bounded_iter(iterable)) if not isinstance(iterable, Undefined) else iterable
    return items


def _est_join(env, s, iterable=(), **kw):
    items = _materialise(env, iterable)
    if isinstance(items, Undefined):
        return (items,), 0
    total = len(s) * max(len(items) - 1, 0)
    for item in items:
        env.printable(item)
        total += len(item) if isinstance(item, (str, bytes)) else 0
    return (items,), total


def _est_replace(env, s, old="", new="", count=-1, *rest, **kw):
    if not isinstance(old, (str, bytes)) or not isinstance(new, (str, bytes)):
        return (old, new, count) + rest, len(s)
    n = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return (old, new, count) + rest, len(s) + n * max(len(new) - len(old), 0)


def _est_translate(env, s, table=None, **kw):
    longest = 1
    if isinstance(table, dict):
        longest = max([len(v) for v in table.values() if isinstance(v, (str, bytes))] + [1])
    return (table,), len(s) * longest


def _est_encode(env, s, *args, **kw):
    return args, len(s) * 4


_GROWING = {"center": _est_width, "ljust": _est_width, "rjust": _est_width, "zfill": _est_width,
            "expandtabs": _est_expandtabs, "join": _est_join, "replace": _est_replace,
            "translate": _est_translate, "encode": _est_encode}


def _f_center(env, value, width=80):
    return value, max(len(str(value)), _as_int(width))


def _f_indent(env, s, width=4, first=False, blank=False):
    step = len(width) if isinstance(width, str) else max(_as_int(width), 0)
    text = str(s)
    return s, len(text) + step * (text.count("\n") + 1)


def _f_wordwrap(env, s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    text = str(s)
    sep = len(wrapstring) if isinstance(wrapstring, str) else 1
    lines = len(text) // max(_as_int(width), 1) + text.count("\n") + 1
    return s, len(text) + sep * lines


def _f_join(env, value, d="", attribute=None):
    items = _materialise(env, value)
    if isinstance(items, Undefined):
        return items, 0
    total = len(str(d)) * max(len(items) - 1, 0)
    if attribute is None:
        for item in items:
            env.printable(item)
            total += len(item) if isinstance(item, str) else 0
    return items, total


def _f_format(env, value, *args, **kwargs):
    env.check_printf(str(value), kwargs or args)
    return value, 0


def _f_replace(env, s, old, new, count=None):
    return s, _est_replace(env, str(s), str(old), str(new), -1 if count is None else count)[1]


def _f_batch(env, value, linecount, fill_with=None):
    return value, max(_as_int(linecount), 0)


def _f_slice(env, value, slices, fill_with=None):
    env.charge(max(_as_int(slices), 0))
    return value, 0


def _f_sum(env, iterable, attribute=None, start=0):
    if not isinstance(start, _NUMBER):
        raise TemplateValueError("the template adds up things that are not numbers")
    items = _materialise(env, iterable)
    if attribute is None and not isinstance(items, Undefined) and not all(isinstance(i, _NUMBER) for i in items):
        raise TemplateValueError("the template adds up things that are not numbers")
    return items, 0


def _f_tojson(env, value, indent=None):
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= 16):
        raise TextTooLong("the template asks tojson for an indent of more than 16")
    return value, 0


_FILTER_CHECKS = {"center": _f_center, "indent": _f_indent, "wordwrap": _f_wordwrap, "join": _f_join,
                  "format": _f_format, "replace": _f_replace, "batch": _f_batch, "slice": _f_slice,
                  "sum": _f_sum, "tojson": _f_tojson}


def bounded_filter(name: str, func: t.Callable) -> t.Callable:
    """`func` (a Jinja filter) with its result bounded: the filtered value may not be a function,
    growth is estimated before the work for the filters that grow text or lists, and what it
    returns is counted."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(func)
    def bounded(*args, **kwargs):
        env = next((a for a in args[:skip] if isinstance(a, BoundedEnvironment)), None) or \
            next((getattr(a, "environment", None) for a in args[:skip]), None)
        if not isinstance(env, BoundedEnvironment):
            env = _FALLBACK
        value = args[skip] if len(args) > skip else None
        if callable(value) and not isinstance(value, (str, Undefined)):
            env.printable(value)
        if check is not None and len(args) > skip:
            value, n = check(env, *args[skip:], **kwargs)
            args = args[:skip] + (value,) + args[skip + 1:]
            env.spend(n)
        result = func(*args, **kwargs)
        if isinstance(result, _SEQUENCES):
            env.spend(len(result))
        return result

    return bounded


_FALLBACK = None  # set below, for filters called outside a bounded environment


def render_bounded(template: jinja2.Template, output_limit: int = PAGE_OUTPUT, **values) -> str:
    """Render `template` with `values`, bounded: a BoundedTemplate renders within its
    environment's limits; any other template is streamed and stopped past `output_limit`
    characters. Every failure is a jinja2.TemplateError (see this module's docstring)."""
    if isinstance(template, BoundedTemplate):
        return template.render(**values)
    total, out = 0, []
    try:
        for part in template.generate(**values):
            total += len(part)
            if total > output_limit:
                raise TextTooLong(f"the template makes a text longer than {size_text(output_limit)}")
            out.append(part)
    except TemplateError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise TooDeep(_readable(exc)) from None
    except Exception as exc:
        filename, line = _template_frame(exc.__traceback__)
        raise TemplateValueError(_readable(exc), line, filename) from None
    return "".join(out)


_FALLBACK = BoundedEnvironment()
