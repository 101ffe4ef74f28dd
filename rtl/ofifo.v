// OFIFO: one FIFO per array column, each written when its column's psum leaves the array (column c one
// cycle after column c-1), read as one aligned vector once every column holds an entry.
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
    wire [COLS-1:0] col_valid;
    assign out_valid = &col_valid;
    genvar c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_col
            /* verilator lint_off PINCONNECTEMPTY */
            fifo #(.WIDTH(PSUM_W), .DEPTH(DEPTH)) u_fifo (
                .clk(clk), .rst(rst),
                .in_valid(in_valid[c]), .in_ready(col_ready[c]),  // the sequencer's credits bound occupancy
                .in_data(in_data[c*PSUM_W +: PSUM_W]),
                .out_valid(col_valid[c]), .out_ready(out_ready && out_valid),
                .out_data(out_data[c*PSUM_W +: PSUM_W]), .count());
            /* verilator lint_on PINCONNECTEMPTY */
        end
    endgenerate
endmodule
