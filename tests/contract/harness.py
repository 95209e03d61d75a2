"""What client_flows.py needs around the generated client: finding the generated function
of an operation, calling it, and judging what came back only through the generated models.

Operations are found by method and path in the document the client was generated from,
so renaming an operationId or a tag renames a module without breaking the flows; a
parameter is found by its name in the document (`total[gte]` is `totalgte` in Python).
Anything the generated code cannot parse, an undocumented status (the client raises
`UnexpectedStatus`), or a field the document does not declare is a failure of the document.
"""

import importlib
import inspect
import json
import pkgutil
import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

CLIENT_PACKAGE = "ordo_client"


class FlowFailure(Exception):
    """A step did not get what the contract promises."""


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


class Operations:
    """The generated module of each (method, path) the document declares."""

    def __init__(self, schema_file: Path) -> None:
        document = json.loads(schema_file.read_text())
        self.operation_ids: dict[tuple[str, str], str] = {}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    key = (method.lower(), _normal_path(path))
                    self.operation_ids[key] = operation["operationId"]
        api = importlib.import_module(f"{CLIENT_PACKAGE}.api")
        self.modules: dict[str, str] = {}
        for tag in pkgutil.iter_modules(api.__path__):
            package = importlib.import_module(f"{api.__name__}.{tag.name}")
            for module in pkgutil.iter_modules(package.__path__):
                self.modules[_normal(module.name)] = f"{package.__name__}.{module.name}"

    def module(self, method: str, path: str) -> Any:
        operation_id = self.operation_ids.get((method, _normal_path(path)))
        if operation_id is None:
            raise FlowFailure(f"the document has no {method.upper()} {path}")
        name = self.modules.get(_normal(operation_id))
        if name is None:
            raise FlowFailure(f"no generated module for operationId {operation_id!r}")
        return importlib.import_module(name)


def model(name: str) -> type:
    """A generated model class by its schema name (`OrderCreateRequest`)."""
    models = importlib.import_module(f"{CLIENT_PACKAGE}.models")
    found = getattr(models, name, None)
    if found is None:
        raise FlowFailure(f"the document has no schema {name!r} (no generated model)")
    return found


def call(module: Any, client: Any, **arguments: Any) -> Any:
    """`module.sync_detailed(...)`, naming parameters as the document does."""
    function = module.sync_detailed
    accepted = inspect.signature(function).parameters
    by_normal = {_normal(name): name for name in accepted}
    kwargs: dict[str, Any] = {"client": client}
    for name, value in arguments.items():
        python_name = by_normal.get(_normal(name))
        if python_name is None:
            raise FlowFailure(
                f"{module.__name__.rsplit('.', 1)[-1]} takes no parameter {name!r} "
                f"(the document does not declare it)"
            )
        kwargs[python_name] = _enum_value(accepted[python_name], value)
    shown = {k: v for k, v in arguments.items() if k not in {"body", "store_id", "order_id"}}
    LAST_CALL[0] = f"{module.__name__.rsplit('.', 1)[-1]}({_query(shown)})"
    return function(**kwargs)


def _query(arguments: dict[str, Any]) -> str:
    return "&".join(f"{name}={value}" for name, value in arguments.items())


def _enum_value(parameter: inspect.Parameter, value: Any) -> Any:
    """A plain string for a parameter the document declares as an enum becomes its member."""
    if not isinstance(value, str):
        return value
    annotation = parameter.annotation
    for candidate in getattr(annotation, "__args__", (annotation,)):
        if isinstance(candidate, type) and hasattr(candidate, "__members__"):
            try:
                return candidate(value)
            except ValueError as error:
                raise FlowFailure(
                    f"{value!r} is not in the document's {candidate.__name__}"
                ) from error
    return value


# Fields the app sent that the document does not declare, by "Model.field", with the first
# step that saw each: reported once each at the end, without stopping the flows.
UNDOCUMENTED: dict[str, str] = {}
# The operation call() made last, for the report above.
LAST_CALL = [""]


def undocumented_fields(value: Any) -> list[str]:
    """Fields the app sent that the generated model only holds in `additional_properties`
    (a typed client cannot see them). Free-form objects (no declared properties) are fine."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += undocumented_fields(item)
    elif attrs.has(type(value)):
        declared = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
        extra = getattr(value, "additional_properties", {})
        if declared and extra:
            found += [f"{type(value).__name__}.{name}" for name in sorted(extra)]
        for name in declared:
            found += undocumented_fields(getattr(value, name))
    return sorted(set(found))


def describe_exception(error: BaseException) -> str:
    """The exception and, when it came from the generated code, the line that raised it."""
    text = f"{type(error).__name__}: {error}"
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if f"/{CLIENT_PACKAGE}/" in frame.filename
    ]
    if frames:
        frame = frames[-1]
        module = frame.filename.split(f"/{CLIENT_PACKAGE}/", 1)[1]
        text += f" (in generated {module}:{frame.lineno} `{(frame.line or '').strip()}`)"
    return text


class Recorder:
    """Runs the steps, prints one line each and counts the failures."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def flow(self, name: str, body: Callable[[], None]) -> None:
        """One flow; its first failure ends it (later steps depend on earlier ones)."""
        print(f"-- {name}")
        try:
            body()
        except FlowFailure as failure:
            self.fail(f"{name}: {failure}")
        except Exception as error:
            self.fail(f"{name}: {describe_exception(error)}")

    def ok(self, text: str) -> None:
        self.passed += 1
        print(f"ok    {text}")

    def soft(self, label: str, check: Callable[[], str]) -> None:
        """A step whose failure is reported without ending its flow."""
        try:
            self.ok(f"{label}: {check()}")
        except FlowFailure as failure:
            self.fail(f"{label}: {failure}")
        except Exception as error:
            self.fail(f"{label}: {describe_exception(error)}")

    def fail(self, text: str) -> None:
        self.failed.append(text)
        print(f"FAIL  {text}")


def expect(response: Any, status: int, success_model: str | None = None) -> Any:
    """The parsed body of a response that must have `status`; a 2xx must parse as the
    operation's success model (named, when given), an error as ErrorResponse."""
    if int(response.status_code) != status:
        raise FlowFailure(
            f"expected {status}, got {int(response.status_code)}: {response.content[:300]!r}"
        )
    parsed = response.parsed
    error_model = model("ErrorResponse")
    if status >= 400:
        if not isinstance(parsed, error_model):
            raise FlowFailure(f"{status} did not parse as ErrorResponse: {type(parsed).__name__}")
    elif parsed is None or isinstance(parsed, error_model):
        raise FlowFailure(f"{status} parsed as {type(parsed).__name__}")
    elif success_model and type(parsed).__name__ != success_model:
        raise FlowFailure(f"{status} parsed as {type(parsed).__name__}, not {success_model}")
    for field in undocumented_fields(parsed):
        UNDOCUMENTED.setdefault(field, LAST_CALL[0])
    return parsed


def expect_error(response: Any, status: int, code: str) -> Any:
    """The generated error model of a refusal: code, message, details, context, request_id."""
    error = expect(response, status).error
    if error.code != code:
        raise FlowFailure(f"expected {code}, got {error.code}: {error.message}")
    if not isinstance(error.message, str) or not error.message:
        raise FlowFailure(f"{code}: empty message")
    if not isinstance(error.request_id, str) or not error.request_id:
        raise FlowFailure(f"{code}: no request_id")
    if not hasattr(error, "context"):
        raise FlowFailure("the document's Error model has no `context`")
    if code != "FEATURE_ACCESS_DENIED":
        if not isinstance(error.details, list):
            raise FlowFailure(f"{code}: details is {type(error.details).__name__}, not a list")
        for item in error.details:
            if not (hasattr(item, "field") and hasattr(item, "message")):
                raise FlowFailure("the document's error details items declare no field/message")
    return error


def context_of(error: Any) -> dict[str, Any]:
    """The error's context as a dict (a free-form object in the document)."""
    context = error.context
    if hasattr(context, "to_dict"):
        return context.to_dict()
    if isinstance(context, dict):
        return context
    raise FlowFailure(f"{error.code}: context is {context!r}")
