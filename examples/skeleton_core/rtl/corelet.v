// corelet: L0 -> MAC array -> OFIFO, and the SFU on the psum memory's read port.
module corelet #(
    parameter row = 8, parameter col = 8, parameter bw = 4, parameter psum_bw = 16, parameter RELU_EN = 1
) (
    input                     clk,
    input                     reset,
    input                     mode,      // 1: 2-bit activations (mac.v)
    input  [6:0]              inst,      // ofifo_rd, ififo_wr, ififo_rd, l0_rd, l0_wr, execute, load
    input                     acc,
    input  [bw*row-1:0]       l0_in,
    output [psum_bw*col-1:0]  ofifo_out,
    output                    ofifo_valid,
    input  [psum_bw*col-1:0]  sfu_in,
    output [psum_bw*col-1:0]  sfu_out
);
    wire [bw*row-1:0]      l0_out;
    wire [psum_bw*col-1:0] array_out;
    wire [col-1:0]         array_valid;
    reg  [1:0]             inst_q;   // execute/load aligned with the L0's registered read data

    always @(posedge clk) begin
        if (reset) inst_q <= 2'b00;
        else       inst_q <= inst[1:0];
    end

    l0 #(.row(row), .bw(bw)) l0_instance (
        .clk(clk), .reset(reset), .wr(inst[2]), .rd(inst[3]), .in(l0_in), .out(l0_out));

    mac_array #(.row(row), .col(col), .bw(bw), .psum_bw(psum_bw)) mac_array_instance (
        .clk(clk), .reset(reset), .mode(mode), .in_w(l0_out), .inst_w(inst_q), .in_n({psum_bw*col{1'b0}}),
        .out_s(array_out), .valid(array_valid));

    ofifo #(.col(col), .psum_bw(psum_bw)) ofifo_instance (
        .clk(clk), .reset(reset), .wr(array_valid), .rd(inst[6]), .in(array_out), .out(ofifo_out),
        .o_valid(ofifo_valid));

    sfu #(.col(col), .psum_bw(psum_bw), .RELU_EN(RELU_EN)) sfu_instance (
        .clk(clk), .reset(reset), .acc(acc), .in(sfu_in), .out(sfu_out));
endmodule
