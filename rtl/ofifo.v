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
    wire [COLS*PSUM_W-1:0] held_data;
    wire pop = out_ready && out_valid;
    assign out_valid = &(col_valid | in_valid);
    genvar c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_col
            // zero while neither holds a word: no X from a psum register never written (the 4-state check)
            assign out_data[c*PSUM_W +: PSUM_W] = col_valid[c] ? held_data[c*PSUM_W +: PSUM_W]
                                                : in_valid[c] ? in_data[c*PSUM_W +: PSUM_W] : {PSUM_W{1'b0}};
            /* verilator lint_off PINCONNECTEMPTY */
            fifo #(.WIDTH(PSUM_W), .DEPTH(DEPTH)) u_fifo (
                .clk(clk), .rst(rst),
                .in_valid(in_valid[c] && !(pop && !col_valid[c])), .in_ready(col_ready[c]),  // credits bound occupancy
                .in_data(in_data[c*PSUM_W +: PSUM_W]),
                .out_valid(col_valid[c]), .out_ready(pop && col_valid[c]),
                .out_data(held_data[c*PSUM_W +: PSUM_W]), .count());
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
endmodule
