"""The immutable layer value that every WL layer head builds on.

A layer holds three things: ``params`` (its hyperparameters, as given by the user
and normalised), its port types (``in_types``/``out_types``: what is known so far,
fully known after shape inference) and ``arrays`` (learned arrays by WL name,
``None`` while uninitialized). A layer never changes; every edit makes a new one.

Subclasses describe themselves with class attributes (``inputs``, ``outputs``,
``states``), the *facts* every later stage reads off the class (:attr:`Layer.time`,
:attr:`Layer.length_shift`, :attr:`Layer.function_params`, :attr:`Layer.is_loss`,
:meth:`Layer.check_params`) and two pure functions: :meth:`Layer.infer` (known port types ->
constraints on the other ports) and :meth:`Layer.array_specs` (port types -> array shapes and
how to initialize them). Torch appears only in ``backend/``.

Adding a head (see docs/guide/extending.md):

1. a subclass of :class:`Layer` here (params, ports, ``infer``, ``array_specs``, its facts);
2. a subclass of :class:`netgraph.backend.base.LayerModule` registered for it with
   ``@lowers(TheLayer)`` in a module of ``netgraph/backend/`` (a new module is listed once in
   ``netgraph/backend/families.py``);
3. one line in ``netgraph/__init__.py`` (the import; and its name in ``__all__``).

``tests/test_layer_facts.py`` fails for a registered head that lacks a fact.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..errors import LayerError, ShapeError, check_options
from ..shapes import PortType, parse
from ..symbols import Automatic
from .coding import attach, split_ports
from .shared import NetArray

Types = dict[str, PortType]


class PortMismatch(Exception):
    """Raised by :meth:`Layer.infer`: ``port`` cannot have the type it is given.

    The graph turns it into a :class:`ShapeError` naming the layer and port.
    """

    def __init__(self, port: str, expected: str, received: str | None = None) -> None:
        super().__init__(port, expected, received)
        self.port, self.expected, self.received = port, expected, received


@dataclass(frozen=True)
class ArraySpec:
    """How a learned array is shaped and initialized.

    ``init`` is "weights" (fan-in/fan-out scaled by the NetInitialize method),
    "biases" (zeros), "zeros", "ones", "identity" or "constant" (every element ``value``,
    as ParametricRampLayer's "Slope" starts at 0.1).
    """

    shape: tuple[int, ...] | None
    init: str = "weights"
    fan_in: int | None = None
    fan_out: int | None = None
    auxiliary: bool = False  # a running statistic (BatchNormalization): no gradient, never shared
    value: float = 0.0       # every element's value when init is "constant"


def _freeze_array(a: Any) -> np.ndarray | None:
    if a is None:
        return None
    arr = np.array(a, dtype=np.float32 if not np.issubdtype(np.asarray(a).dtype, np.floating)
                   else np.asarray(a).dtype, copy=True)
    arr.flags.writeable = False
    return arr


TIME_HANDLING = ("pointwise", "lengths", "reduce", "whole", "inner")


class Layer:
    """Base of every layer value (LinearLayer, ..., NetGraph, NetChain).

    A head declares these facts on its class (a class attribute, or a property where the
    answer depends on the params or port types); stages read them from here, never from
    tables keyed by head names:

    - ``time`` (required, no default): how the layer treats the time dimension of a batch of
      sequences padded to a common length (backend/lengths.py): ``"pointwise"`` (each time
      step alone: padding only produces padding), ``"lengths"`` (its backend module takes
      each example's length as ``lengths=``), ``"reduce"`` (a reduction over time, made
      exact by filling the padding with :meth:`time_fill`), ``"whole"`` (it needs every step
      of an unpadded sequence: such nets run on groups of equal length) or ``"inner"`` (as
      its inner layers: containers).
    - ``length_shift``: an output sequence's length minus its input's (default 0).
    - ``function_params``: the params that hold a WL function (a Symbol such as Tanh; a
      file may hold only symbols, never code).
    - ``is_loss``: a loss layer (NetTrain takes its output as a loss).
    - ``last_of``: ``{sequence output: port}`` where the port always equals the sequence's
      last element (a recurrent layer's "State" is its "Output" at the last step, per
      example length too); lowering then reads the port instead of slicing the sequence.
    - ``takes_last``: the layer's "Output" is the last element of its "Input" sequence.
    - ``commutes_with_max``: an elementwise layer f with ``max(f(xs)) == f(max(xs))`` for
      values and gradients, ties included (Ramp); a ``pools_max`` layer reading only its
      output then runs before it, on the larger tensor (backend/plan.py).
    - ``pools_max``: a max-pooling layer every window of which holds an input element.
    - :meth:`check_params`: raise LayerError unless the params are valid. It runs on every
      construction path (the constructor, :meth:`_make` for edits, inference and Import),
      as Equinox's ``__check_init__``: never call it by hand.
    """

    inputs: ClassVar[tuple[str, ...]] = ("Input",)
    outputs: ClassVar[tuple[str, ...]] = ("Output",)
    states: ClassVar[tuple[str, ...]] = ()   # ports that are both an input and an output
    options: ClassVar[tuple[str, ...]] = ()  # extra keyword options besides port shapes
    # -- facts (see the class docstring) --
    time: ClassVar[str]                      # required: one of TIME_HANDLING
    length_shift: ClassVar[int] = 0
    function_params: ClassVar[tuple[str, ...]] = ()
    is_loss: ClassVar[bool] = False
    last_of: ClassVar[Mapping[str, str]] = MappingProxyType({})
    takes_last: ClassVar[bool] = False
    commutes_with_max: ClassVar[bool] = False
    pools_max: ClassVar[bool] = False

    params: Mapping[str, Any]
    in_types: Mapping[str, PortType]
    out_types: Mapping[str, PortType]
    arrays: Mapping[str, np.ndarray | None]
    coders: Mapping[str, Any]   # NetEncoder on input ports, NetDecoder on output ports

    # -- construction ------------------------------------------------------
    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every head's constructor takes ``NetArray("name")`` for any of its arrays.

        The NetArrays are taken out before the head's own ``__init__`` sees its options (it
        gets a NetArray's initial values, if any, as a plain array) and recorded afterwards
        in ``params["shared"]`` ({array: shared name}), on every construction path.
        """
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        def __init__(self: Layer, *args: Any, **opts: Any) -> None:
            refs = {k: v for k, v in opts.items() if isinstance(v, NetArray)}
            if not refs:
                return init(self, *args, **opts)  # type: ignore[no-any-return]
            plain = {k: v for k, v in opts.items() if k not in refs}
            plain.update({k: v.array for k, v in refs.items() if v.array is not None})
            init(self, *args, **plain)
            self._mark_shared(refs)

        __init__.__doc__, __init__.__wrapped__ = init.__doc__, init  # type: ignore[attr-defined]
        cls.__init__ = __init__  # type: ignore[method-assign, assignment]

    def _mark_shared(self, refs: Mapping[str, NetArray]) -> None:
        specs = self.array_specs()
        for k, ref in refs.items():
            if k not in specs:
                raise LayerError(self.head, f'{ref!r} is given for "{k}", which '
                                 f"is not an array of {self.head}; its arrays are "
                                 f"{', '.join(specs) or 'none'}.")
            if not isinstance(ref.name, str):
                raise LayerError(self.head, f'array "{k}" takes NetArray("name"), not '
                                 "NetArray(All).")
            if specs[k].auxiliary:
                raise LayerError(self.head, f'array "{k}" cannot be shared: it is a running '
                                 "statistic of each layer, not a learned array.")
            shape = specs[k].shape
            if ref.dims is not None and shape is not None and all(
                    isinstance(d, int) for d in shape) and tuple(shape) != ref.dims:
                raise ShapeError(self.head, f'{ref!r} has Dimensions '
                                 f"{list(ref.dims)}, but array \"{k}\" of {self.head} has "
                                 f"dimensions {list(shape)}.")
            if ref.dims is not None and (shape is None or not all(
                    isinstance(d, int) for d in shape)):
                raise ShapeError(self.head, f'{ref!r} has Dimensions '
                                 f"{list(ref.dims)}, but the dimensions of array \"{k}\" are "
                                 "not known yet; give the layer's port shapes (e.g. Input=...) "
                                 "so that they can be checked.")
        shared = {**self.params.get("shared", {}), **{k: r.name for k, r in refs.items()}}
        object.__setattr__(self, "params", MappingProxyType({**self.params, "shared": shared}))

    @property
    def head(self) -> str:
        return type(self).__name__

    def shared_names(self) -> Mapping[str, str]:
        """{array name: shared array name} for the arrays given as ``NetArray("name")``."""
        return self.params.get("shared") or {}

    def _init(self, params: dict[str, Any], ports: Mapping[str, Any] | None = None,
              arrays: Mapping[str, Any] | None = None) -> None:
        """Finish ``__init__``: store params, parse port shape options (and coders), fill
        arrays."""
        ports = dict(ports or {})
        valid = set(self.input_ports_of(params)) | set(self.output_ports_of(params))
        check_options(self.head, {k: v for k, v in ports.items()}, valid | set(self.options))
        params = _take_options(self.head, params, {k: ports.pop(k) for k in list(ports)
                                                   if k not in valid})
        ports, coders = split_ports(self.head, ports, self.input_ports_of(params),
                                    self.output_ports_of(params))
        ins = {p: parse(v, self.head, f'port "{p}"') for p, v in ports.items()
               if p in self.input_ports_of(params)}
        outs = {p: parse(v, self.head, f'port "{p}"') for p, v in ports.items()
                if p in self.output_ports_of(params)}

        def build(i: Types, o: Types) -> Layer:
            self._set(params, i, o, {}, coders)
            self._self_infer()
            return self
        attach(self.head, build, ins, outs, coders)
        names = self.array_specs()
        given = dict(arrays or {})
        for k in given:
            if k not in names:
                raise LayerError(self.head, f'unknown array "{k}"; the arrays are '
                                 f"{', '.join(names) or 'none'}.")
        full = {k: self._array_value(k, given.get(k)) for k in names}
        object.__setattr__(self, "arrays", MappingProxyType(full))

    def _array_value(self, name: str, value: Any) -> np.ndarray | None:
        """A given array as a read-only numeric array; LayerError naming it when not one."""
        try:
            return _freeze_array(value)
        except (TypeError, ValueError):
            raise LayerError(self.head, f'expected array "{name}" to be a numeric array, but '
                             f"received {value!r}.") from None

    def _set(self, params: Mapping[str, Any], ins: Mapping[str, PortType],
             outs: Mapping[str, PortType], arrays: Mapping[str, Any],
             coders: Mapping[str, Any] | None = None) -> None:
        type(self).check_params(params)  # every construction path: __init__ and _make
        object.__setattr__(self, "params", MappingProxyType(dict(params)))
        object.__setattr__(self, "in_types", MappingProxyType(dict(ins)))
        object.__setattr__(self, "out_types", MappingProxyType(dict(outs)))
        object.__setattr__(self, "arrays", MappingProxyType(dict(arrays)))
        object.__setattr__(self, "coders", MappingProxyType(dict(coders or {})))

    def _self_infer(self) -> None:
        """Apply this layer's own constraints to its ports until nothing changes."""
        from ..shapes import UnifyError, unify
        ins = {p: self.in_types.get(p, PortType()) for p in self.input_ports()}
        outs = {p: self.out_types.get(p, PortType()) for p in self.output_ports()}
        for _ in range(8):
            try:
                cin, cout = self.infer(ins, outs)
            except PortMismatch as e:
                received = f", but received {e.received}." if e.received else "."
                raise ShapeError(self.head, f'port "{e.port}" expects {e.expected}'
                                 + received) from None
            changed = False
            for side, cons in ((ins, cin), (outs, cout)):
                for p, t in cons.items():
                    try:
                        new = unify(side.get(p, PortType()), t)
                    except UnifyError:
                        raise ShapeError(self.head, f'port "{p}" expects {t.describe()}, but '
                                         f"received {side[p].describe()}.") from None
                    if new != side.get(p):
                        side[p], changed = new, True
            if not changed:
                break
        object.__setattr__(self, "in_types", MappingProxyType(ins))
        object.__setattr__(self, "out_types", MappingProxyType(outs))

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        """Raise LayerError unless ``params`` are what this head's constructor would store.

        Runs on every construction path (``__init__`` through :meth:`_init`, and
        :meth:`_make`, which edits, inference and Import use), so a value with invalid params
        cannot exist. A head with params overrides it; the default checks nothing.
        """

    def time_fill(self) -> tuple[float, bool]:
        """For ``time == "reduce"``: the value that fills the padding (the identity of the
        reduction over time) and whether the result is a mean to rescale to each length."""
        raise NotImplementedError(f"{self.head} declares no reduction over time.")

    @classmethod
    def _make(cls, params: Mapping[str, Any], ins: Mapping[str, PortType],
              outs: Mapping[str, PortType], arrays: Mapping[str, Any],
              coders: Mapping[str, Any] | None = None) -> Layer:
        """Build a value directly from its parts (used by edits, inference, Import)."""
        obj = cls.__new__(cls)
        obj._set(params, ins, outs, arrays, coders)
        return obj

    def _replace(self, *, params: Mapping[str, Any] | None = None,
                 in_types: Mapping[str, PortType] | None = None,
                 out_types: Mapping[str, PortType] | None = None,
                 arrays: Mapping[str, Any] | None = None,
                 coders: Mapping[str, Any] | None = None) -> Layer:
        return type(self)._make(
            self.params if params is None else params,
            self.in_types if in_types is None else in_types,
            self.out_types if out_types is None else out_types,
            self.arrays if arrays is None else arrays,
            self.coders if coders is None else coders)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{self.head} is an immutable value; use NetReplacePart.")

    def __copy__(self) -> Layer:
        return self

    def __deepcopy__(self, memo: dict) -> Layer:
        return self

    # -- ports --------------------------------------------------------------
    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return cls.inputs + cls.states

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return cls.outputs + cls.states

    def input_ports(self) -> tuple[str, ...]:
        """Every input port, state ports included."""
        return self.input_ports_of(self.params)

    def output_ports(self) -> tuple[str, ...]:
        """Every output port, state ports included."""
        return self.output_ports_of(self.params)

    def visible_inputs(self) -> tuple[str, ...]:
        """Inputs that become graph ports when left unconnected (not the states)."""
        return tuple(p for p in self.input_ports() if p not in self.states)

    def visible_outputs(self) -> tuple[str, ...]:
        return tuple(p for p in self.output_ports() if p not in self.states)

    # -- shapes -------------------------------------------------------------
    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        """Constraints on ports given what is known; raise PortMismatch on conflict."""
        return {}, {}

    def array_specs(self) -> dict[str, ArraySpec]:
        """The learned arrays, by WL name, with their shapes when known."""
        return {}

    def specialize(self, ins: Types, outs: Types) -> Layer:
        """This layer with the inferred port types recorded."""
        return self._replace(in_types=ins, out_types=outs)

    def is_initialized(self) -> bool:
        return all(a is not None for a in self.arrays.values())

    # -- display ------------------------------------------------------------
    def _param_repr(self) -> str:
        """Arguments as the user would type them, for repr."""
        return ""

    def __repr__(self) -> str:
        return UPCALLS["repr"](self)

    def _repr_html_(self) -> str:
        return UPCALLS["html"](self)

    # -- evaluation -----------------------------------------------------------
    def __call__(self, data: Any = None, *ports: Any, **options: Any) -> Any:
        """Evaluate the net on data: ``net(x)``, ``net({...})``, ``net(x, "Port")``; ``net()``
        for a net without inputs."""
        return UPCALLS["evaluate"](self, data, *ports, **options)


def _unregistered(name: str) -> Callable[..., Any]:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"netgraph: {name} is not registered (import netgraph registers it).")
    return missing


# What a layer value does that an upper level implements: evaluation (runtime), display
# (info) and FunctionLayer's shape probe (backend: it runs the function on torch). A module
# never imports up the levels; ``netgraph/__init__.py`` registers these with
# :func:`register_upcall` when the package loads.
UPCALLS: dict[str, Callable[..., Any]] = {
    name: _unregistered(name) for name in ("evaluate", "repr", "html", "function_shapes")}


def register_upcall(name: str, fn: Callable[..., Any]) -> None:
    """Register the upper level's implementation of ``name`` (see :data:`UPCALLS`)."""
    if name not in UPCALLS:
        raise KeyError(f"unknown upcall {name!r}; expected one of {', '.join(UPCALLS)}")
    UPCALLS[name] = fn


def fact_problems(cls: type[Layer]) -> list[str]:
    """What is wrong with the facts a head's class declares (see :class:`Layer`); [] when
    nothing. A property (a fact that depends on the params) is checked on values only."""
    problems = []
    time = getattr(cls, "time", None)
    if time is None:
        problems.append(f'{cls.__name__} declares no "time" fact (one of '
                        f"{', '.join(TIME_HANDLING)})")
    elif not isinstance(time, property) and time not in TIME_HANDLING:
        problems.append(f'{cls.__name__}.time is {time!r}, not one of {", ".join(TIME_HANDLING)}')
    shift = cls.length_shift
    if not isinstance(shift, property) and (isinstance(shift, bool) or not isinstance(shift, int)):
        problems.append(f"{cls.__name__}.length_shift is {shift!r}, not an int")
    if not (isinstance(cls.function_params, tuple)
            and all(isinstance(k, str) for k in cls.function_params)):
        problems.append(f"{cls.__name__}.function_params is not a tuple of param names")
    if not isinstance(cls.is_loss, bool):
        problems.append(f"{cls.__name__}.is_loss is not True or False")
    if not isinstance(cls.__dict__.get("check_params", classmethod(lambda c, p: None)),
                      classmethod):
        problems.append(f"{cls.__name__}.check_params is not a classmethod")
    return problems


def _take_options(head: str, params: dict[str, Any], left: Mapping[str, Any]
                  ) -> dict[str, Any]:
    """Options a constructor left for ``_init``: ``LearningRateMultipliers`` becomes the
    param "lrm" (NetTrain reads it, train/arrays.graph_rules); any other is a constructor
    that forgot to read an option it declares, refused rather than dropped."""
    for k in left:
        if k != "LearningRateMultipliers":
            raise LayerError(head, f"the option {k} is not supported.")
    if "LearningRateMultipliers" not in left:
        return params
    lrm = left["LearningRateMultipliers"]
    if not _lrm_ok(lrm):
        raise LayerError(head, f"expected LearningRateMultipliers to be a number, None, "
                         f'Automatic or rules such as [("Weights", 0)], but received {lrm!r}.')
    return params if lrm is Automatic else {**params, "lrm": lrm}


def _lrm_ok(v: Any) -> bool:
    def number(x: Any) -> bool:
        return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))
    if v is Automatic or number(v):
        return True
    return isinstance(v, (list, tuple)) and all(
        isinstance(r, tuple) and len(r) == 2 and number(r[1]) for r in v)


def check_size(head: str, value: Any, what: str, allow_none: bool = True) -> Any:
    """Validate a size argument: a positive int (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LayerError(head, f"expected {what} to be a positive integer, but received {value!r}.")
    return value
