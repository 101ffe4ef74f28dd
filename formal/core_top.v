// The formal proofs' top: the core with its outputs left open, so that after flattening Yosys removes every
// bit that no property depends on (tag addresses, psum and sum data, observation ports). Inputs stay free.
`include "fields.vh"
module core_top #(
    parameter integer ROWS = 2, parameter integer COLS = 2, parameter integer CREDITS = 4,
    parameter integer FAULT_INV = 0, parameter integer OUT_DEPTH = 3
) (
    input wire clk, rst, act_wr_valid, wgt_wr_valid, cmd_valid, out_ready, act_wr_region, wgt_wr_region,
    input wire [15:0] act_wr_addr, wgt_wr_addr,
    input wire [ROWS*4-1:0] act_wr_data,
    input wire [2*ROWS*COLS*4-1:0] wgt_wr_data,
    input wire [`CMD_W-1:0] cmd_data
);
    /* verilator lint_off PINCONNECTEMPTY */
    core #(.ROWS(ROWS), .COLS(COLS), .CREDITS(CREDITS), .FAULT_INV(FAULT_INV), .ACT_DEPTH(16), .WGT_DEPTH(16),
           .ACC_DEPTH(16), .CMD_DEPTH(2), .OUT_DEPTH(OUT_DEPTH), .PSUM_W(4), .ACC_W(4)) u_core (
        .clk(clk), .rst(rst), .act_wr_valid(act_wr_valid), .act_wr_ready(), .act_wr_addr(act_wr_addr), .act_wr_region(act_wr_region),
        .act_wr_data(act_wr_data), .wgt_wr_valid(wgt_wr_valid), .wgt_wr_ready(), .wgt_wr_addr(wgt_wr_addr), .wgt_wr_region(wgt_wr_region),
        .wgt_wr_data(wgt_wr_data), .cmd_valid(cmd_valid), .cmd_ready(), .cmd_data(cmd_data), .out_valid(),
        .out_ready(out_ready), .out_data(), .out_addr(), .out_id(), .psum_valid(), .psum_data(), .psum_kij(),
        .psum_nij(), .psum_ic(), .psum_id(), .acc_valid(), .acc_data(), .acc_addr(), .acc_id(), .busy());
`ifdef CORE_INV
    // the auxiliary invariants of the unbounded proofs: inputs besides clk and rst are driven from the core's
    // registers by core_inv_2x2.ys after flattening
    core_inv #(.ROWS(ROWS), .COLS(COLS), .CREDITS(CREDITS)) u_inv (.clk(clk), .rst(rst));
`endif
endmodule
