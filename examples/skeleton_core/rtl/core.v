// A course-skeleton core (UCSD ECE 284 Part 1 style): the testbench addresses both memories and sequences
// everything through one 34-bit instruction word, as the course's core_tb.v does.
//
//   inst[33] acc        inst[32] CEN_pmem  inst[31] WEN_pmem  inst[30:20] A_pmem
//   inst[19] CEN_xmem   inst[18] WEN_xmem  inst[17:7] A_xmem  inst[6] ofifo_rd
//   inst[5]  ififo_wr   inst[4]  ififo_rd  inst[3] l0_rd      inst[2] l0_wr   inst[1] execute  inst[0] load
//
// xmem holds activations (and, at 1024+, the kernel), pmem the psums of every kernel position; the SFU
// accumulates what pmem reads back and applies ReLU (RELU_EN = 0 removes it: a fault for negative tests).
// Memories: CEN/WEN active low, read data one cycle after the read.
// mode = 1: 2-bit activations (course Part 2): each row's 4-bit xmem lane holds two 2-bit activations,
// input channel 2r in bits [1:0] (low) and 2r+1 in bits [3:2] (high); each PE keeps two weights, loaded as
// two kernel words per column (channel 2r's, then 2r+1's). mode = 0: 4-bit, one activation and weight per PE.
// os = 1: output-stationary (4-bit only): PE (r, c) sums the output of row r's position and column c's
// channel; activations come through L0 (one position a row), weights through the IFIFO (one output channel
// a column, ififo_wr / ififo_rd), and load drains the sums through the OFIFO (pmem, then the SFU's ReLU).
module core #(
    parameter row     = 8,
    parameter col     = 8,
    parameter bw      = 4,
    parameter psum_bw = 16,
    parameter RELU_EN = 1
) (
    input                      clk,
    input                      reset,
    input                      mode,
    input                      os,
    input  [33:0]              inst,
    input  [bw*row-1:0]        D_xmem,
    output                     ofifo_valid,
    output [psum_bw*col-1:0]   sfu_out
);
    wire              acc      = inst[33];
    wire              CEN_pmem = inst[32];
    wire              WEN_pmem = inst[31];
    wire [10:0]       A_pmem   = inst[30:20];
    wire              CEN_xmem = inst[19];
    wire              WEN_xmem = inst[18];
    wire [10:0]       A_xmem   = inst[17:7];

    wire [bw*row-1:0]      xmem_q;
    wire [psum_bw*col-1:0] ofifo_out, pmem_q;

    sram #(.width(bw*row), .depth(2048)) xmem (
        .CLK(clk), .D(D_xmem), .Q(xmem_q), .CEN(CEN_xmem), .WEN(WEN_xmem), .A(A_xmem));
    sram #(.width(psum_bw*col), .depth(2048)) pmem (
        .CLK(clk), .D(ofifo_out), .Q(pmem_q), .CEN(CEN_pmem), .WEN(WEN_pmem), .A(A_pmem));

    corelet #(.row(row), .col(col), .bw(bw), .psum_bw(psum_bw), .RELU_EN(RELU_EN)) corelet_insts (
        .clk(clk), .reset(reset), .mode(mode), .os(os), .inst(inst[6:0]), .acc(acc), .l0_in(xmem_q),
        .ofifo_out(ofifo_out), .ofifo_valid(ofifo_valid), .sfu_in(pmem_q), .sfu_out(sfu_out));
endmodule
