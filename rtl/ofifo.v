// OFIFO: one FIFO per array column, each written when its column's psum leaves the array (column c one
// cycle after column c-1), read as one aligned vector once every column holds an entry or receives one: a
// column whose FIFO is empty passes the psum arriving this cycle straight through.
module ofifo #(
    parameter integer COLS   = 8,
    parameter integer PSUM_W = 16,
    parameter integer DEPTH  = 32
) (
    input  wire                   clk,
    input  wire                   rst,
    input  wire [COLS-1:0]        in_valid,
    input  wire [COLS*PSUM_W-1:0] in_data,
    output wire                   out_valid,
    input  wire                   out_ready,
    output wire [COLS*PSUM_W-1:0] out_data,
    output wire                   overflow     // a column was pushed while full (never: the credits bound it)
);
    wire [COLS-1:0] col_ready;
    assign overflow = |(in_valid & ~col_ready);
    // The pass-through: the vector whose last column arrives now can be taken now (the cycle a FIFO's register
    // would cost pays for the array's input register, core.v's tok_q). A psum taken so is not stored; otherwise
    // it is pushed as usual, and a column's own FIFO, once it holds a word, comes first.
    wire [COLS-1:0] col_valid;
    wire pop = out_ready && out_valid;
    assign out_valid = &(col_valid | in_valid);
    genvar c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_col
            // out_data, col_valid and col_ready are put together by one chain of concatenations each (_od, _vs,
            // _rs), not slice by slice: Icarus resolves a net assigned slice by slice again, bit by bit,
            // whenever any slice changes (mac_array.v's g_edge). A name with a leading underscore repeats bits of
            // those vectors or of the column FIFO's ports: Verilator's toggle coverage leaves it out.
            wire              _cv, _cr;
            wire [PSUM_W-1:0] _held;
            // zero while neither holds a word: no X from a psum register never written (the 4-state check)
            wire [PSUM_W-1:0] _o = _cv ? _held : in_valid[c] ? in_data[c*PSUM_W +: PSUM_W] : {PSUM_W{1'b0}};
            /* verilator lint_off PINCONNECTEMPTY */
            fifo #(.WIDTH(PSUM_W), .DEPTH(DEPTH)) u_fifo (
                .clk(clk), .rst(rst),
                .in_valid(in_valid[c] && !(pop && !_cv)), .in_ready(_cr),  // credits bound occupancy
                .in_data(in_data[c*PSUM_W +: PSUM_W]),
                .out_valid(_cv), .out_ready(pop && _cv),
                .out_data(_held), .count());
            /* verilator lint_on PINCONNECTEMPTY */
            wire [(c+1)*PSUM_W-1:0] _od;
            wire [c:0]              _vs, _rs;
            if (c == 0) begin : g_first
                assign _od = _o;
                assign _vs = _cv;
                assign _rs = _cr;
            end else begin : g_next
                assign _od = {_o, g_col[c-1]._od};
                assign _vs = {_cv, g_col[c-1]._vs};
                assign _rs = {_cr, g_col[c-1]._rs};
            end
        end
    endgenerate
    assign out_data  = g_col[COLS-1]._od;
    assign col_valid = g_col[COLS-1]._vs;
    assign col_ready = g_col[COLS-1]._rs;
endmodule
