"""policypack: school HR policies as code.

Pipeline: load (YAML -> source model) -> layer (organisation overrides) -> resolve (variables,
options, numbering, cross-references) -> render (HTML, PDF, DOCX writers) -> write (atomic).
"""
__version__ = "0.1.0"
