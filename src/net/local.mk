# net: rules added with the module (see DESIGN.md for what it may use).
