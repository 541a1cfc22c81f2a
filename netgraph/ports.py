"""NetPort, the public way to name a port, and PortRef, its normalised internal form."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import ConnectionError_
from .symbols import All, Symbol


def _check_part(part: Any) -> Any:
    if isinstance(part, bool) or not isinstance(part, (int, str, Symbol)):
        raise ConnectionError_("NetPort", f"expected a layer position (int), a layer name (str) "
                               f"or a port name, but received {part!r}.")
    if isinstance(part, Symbol) and part is not All:
        raise ConnectionError_("NetPort", f"expected All, a layer or a port, but received "
                               f"{part!r}.")
    return part


class NetPort:
    """NetPort("port"), NetPort(layer, "port"), NetPort((layer, ..., "port")): names a port.

    ``NetPort(All, "States")`` names every recurrent state of a net at once.
    On the left of a connection ``NetPort("x")`` is a graph input and ``NetPort(l, "p")`` an
    output port of layer ``l``; on the right they are a graph output and an input port.

    >>> NetPort(1, "State")
    NetPort(1, "State")
    >>> NetPort("Input").port
    'Input'
    """

    __slots__ = ("path", "port")
    path: tuple[Any, ...]
    port: str

    def __init__(self, *spec: Any) -> None:
        if len(spec) == 1 and isinstance(spec[0], (tuple, list)):
            spec = tuple(spec[0])
        if not spec:
            raise ConnectionError_("NetPort", "expected a port name, but received nothing.")
        parts = tuple(_check_part(p) for p in spec)
        if not isinstance(parts[-1], str):
            raise ConnectionError_("NetPort", f"expected the last part to be a port name (str), "
                                   f"but received {parts[-1]!r}.")
        object.__setattr__(self, "path", parts[:-1])
        object.__setattr__(self, "port", parts[-1])

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("NetPort is immutable")

    @property
    def is_graph_port(self) -> bool:
        return not self.path

    def __repr__(self) -> str:
        parts = [*self.path, self.port]
        return "NetPort(" + ", ".join(f'"{p}"' if isinstance(p, str) else repr(p)
                                      for p in parts) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetPort) and (self.path, self.port) == (other.path, other.port)

    def __hash__(self) -> int:
        return hash(("NetPort", self.path, self.port))


@dataclass(frozen=True, order=True)
class PortRef:
    """A port inside one graph: ``node`` is a layer key, or ``None`` for the graph's own port."""

    node: str | None
    port: str

    def wl(self) -> str:
        """The port as the user would write it: NetPort(2, "Input") or NetPort("Output")."""
        if self.node is None:
            return f'NetPort("{self.port}")'
        node: Any = int(self.node) if self.node.isdigit() else f'"{self.node}"'
        return f'NetPort({node}, "{self.port}")'


class NetPortGradient:
    """NetPortGradient("Input"): asks ``net(data, spec)`` for a gradient instead of an output.

    ``NetPortGradient("port")`` is the gradient at an input port, ``NetPortGradient("Weights")``
    (a standalone layer's array) or ``NetPortGradient((layer, ..., "Weights"))`` that of a
    learned array (WL ``NetPortGradient[{l1, ..., "Weights"}]``; a list works too),
    ``NetPortGradient(NetArray("W"))`` that of a shared array and ``NetPortGradient(All)``
    every real input and learned array. As a key of the data, ``{NetPortGradient("Output"):
    g}`` sets the gradient that flows back from an output port (see runtime/gradients.py).

    >>> NetPortGradient("Input")
    NetPortGradient("Input")
    >>> NetPortGradient([2, "Weights"]) == NetPortGradient((2, "Weights"))
    True
    """

    __slots__ = ("spec",)
    spec: Any

    def __init__(self, spec: Any) -> None:
        if isinstance(spec, list):
            spec = tuple(spec)
        ok = spec is All or isinstance(spec, str) and spec or type(spec).__name__ == "NetArray" \
            or isinstance(spec, tuple) and spec and isinstance(spec[-1], str) and all(
                isinstance(p, (int, str)) and not isinstance(p, bool) for p in spec)
        if not ok:
            raise ConnectionError_("NetPortGradient", f"expected a port name, a path (layer, "
                                   f'..., "array"), a NetArray or All, but received {spec!r}.')
        object.__setattr__(self, "spec", spec)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("NetPortGradient is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetPortGradient) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(("NetPortGradient", self.spec))

    def __repr__(self) -> str:
        s = self.spec
        if isinstance(s, str):
            return f'NetPortGradient("{s}")'
        if isinstance(s, tuple):
            return "NetPortGradient((" + ", ".join(
                f'"{p}"' if isinstance(p, str) else repr(p) for p in s) + "))"
        return f"NetPortGradient({s!r})"
