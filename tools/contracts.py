"""An import-linter contract type for dsr's rooms: platform -> cases -> features -> web shell.

import-linter's own ``layers`` contract needs every layer named, so a new feature package would be
unconstrained until someone added it. This contract names the fixed rooms (the platform, the cases core
and the web shell, the shell by wildcards such as ``dsr.*.views``) and takes every *other* package under
the root as a feature, so a package added later is covered without editing the contract.

A module may import its own layer or a lower one: shell (3) > features (2) > cases (1) > platform (0).
Imports inside one top-level package are checked too: a feature's ``models`` importing its own ``views``
goes from a feature module up to the shell. Registered in ``pyproject.toml`` as ``dsr_layers``.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.application import contract_utils, output
from importlinter.application.contract_utils import AlertLevel
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules

NAMES = {0: "platform", 1: "cases", 2: "feature", 3: "web shell"}


class RoomsContract(Contract):
    type_name = "dsr_layers"

    root = fields.StringField()
    platform = fields.ListField(subfield=fields.ModuleExpressionField())
    cases = fields.ListField(subfield=fields.ModuleExpressionField())
    shell = fields.ListField(subfield=fields.ModuleExpressionField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(AlertLevel, default=AlertLevel.ERROR)

    def _layers(self, graph: ImportGraph) -> dict[str, int]:
        """Every module under the root with its layer; the most specific room wins (shell patterns first)."""
        shell, cases, platform = (self._modules(graph, rooms) for rooms in (self.shell, self.cases, self.platform))
        layers = {}
        for module in graph.find_descendants(self.root) | {self.root}:
            if module in shell:
                layers[module] = 3
            elif module in cases:
                layers[module] = 1
            elif module in platform:
                layers[module] = 0
            else:
                layers[module] = 2  # a feature: whatever is not a fixed room, including packages added later
        return layers

    def _modules(self, graph: ImportGraph, expressions) -> set[str]:
        """The modules the expressions name, each with its descendants, except the root: naming the root
        (``dsr``, the app factory) means that one module, not the whole tree."""
        found = set()
        for module in module_expressions_to_modules(graph, expressions):
            found.add(module.name)
            if module.name != self.root and module.name in graph.modules:
                found |= graph.find_descendants(module.name)
        return found

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph, ignore_imports=self.ignore_imports,
            unmatched_alerting=self.unmatched_ignore_imports_alerting)
        layers = self._layers(graph)
        upward = []
        for importer, layer in sorted(layers.items()):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported in layers and layers[imported] > layer:
                    details = graph.get_import_details(importer=importer, imported=imported)
                    line = details[0]["line_number"] if details else "?"
                    upward.append((importer, layer, imported, layers[imported], line))
        features = sorted({m.split(".")[1] for m, lay in layers.items() if lay == 2 and m.count(".") >= 1})
        return ContractCheck(kept=not upward, warnings=list(removal.warnings),
                             ignored_import_count=removal.ignored_import_count,
                             metadata={"upward": upward, "features": features})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, layer, imported, imported_layer, line in check.metadata["upward"]:
            output.print_error(f"{importer} ({NAMES[layer]}) imports {imported} ({NAMES[imported_layer]}) "
                               f"(l. {line})", bold=False)
        output.new_line()
        output.print(f"Features found: {', '.join(check.metadata['features'])}.")
