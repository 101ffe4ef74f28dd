// corelet: L0 -> MAC array -> OFIFO, and the SFU on the psum memory's read port.
// os = 1 (output-stationary): the IFIFO (written from xmem like L0) feeds each column's weights from the
// north, skewed like L0's rows; load drains the PEs' sums south into the OFIFO (one row a cycle, last row
// first) instead of loading weights.
module corelet #(
    parameter row = 8, parameter col = 8, parameter bw = 4, parameter psum_bw = 16, parameter RELU_EN = 1
) (
    input                     clk,
    input                     reset,
    input                     mode,      // 1: 2-bit activations (mac.v)
    input                     os,        // 1: output-stationary (mac_tile.v)
    input  [6:0]              inst,      // ofifo_rd, ififo_wr, ififo_rd, l0_rd, l0_wr, execute, load
    input                     acc,
    input  [bw*row-1:0]       l0_in,
    output [psum_bw*col-1:0]  ofifo_out,
    output                    ofifo_valid,
    input  [psum_bw*col-1:0]  sfu_in,
    output [psum_bw*col-1:0]  sfu_out
);
    wire [bw*row-1:0]      l0_out;
    wire [bw*col-1:0]      ififo_out;
    wire [psum_bw*col-1:0] weights_n;    // os: column c's weight in the low bw bits of its in_n
    wire                   drain = os & inst_q[0];
    wire [psum_bw*col-1:0] array_out;
    wire [col-1:0]         array_valid;
    reg  [1:0]             inst_q;   // execute/load aligned with the L0's registered read data

    always @(posedge clk) begin
        if (reset) inst_q <= 2'b00;
        else       inst_q <= inst[1:0];
    end

    l0 #(.row(row), .bw(bw)) l0_instance (
        .clk(clk), .reset(reset), .wr(inst[2]), .rd(inst[3]), .in(l0_in), .out(l0_out));

    l0 #(.row(col), .bw(bw)) ififo_instance (
        .clk(clk), .reset(reset), .wr(inst[5]), .rd(inst[4]), .in(l0_in), .out(ififo_out));

    genvar c;
    generate
        for (c = 0; c < col; c = c + 1) begin : col_num
            wire [psum_bw*(c+1)-1:0] w_chain;   // columns 0..c's weights (one driver per net: mac_row.v's note)
            if (c == 0) begin : g_first
                assign w_chain = {{(psum_bw - bw){1'b0}}, ififo_out[bw-1:0]};
            end else begin : g_next
                assign w_chain = {{(psum_bw - bw){1'b0}}, ififo_out[bw*(c+1)-1:bw*c], col_num[c-1].w_chain};
            end
        end
    endgenerate
    assign weights_n = col_num[col-1].w_chain;

    // os: load is the drain (broadcast to every tile at once), never a weight load
    mac_array #(.row(row), .col(col), .bw(bw), .psum_bw(psum_bw)) mac_array_instance (
        .clk(clk), .reset(reset), .mode(mode), .os(os), .drain(drain), .in_w(l0_out),
        .inst_w({inst_q[1], inst_q[0] & ~os}), .in_n(os ? weights_n : {psum_bw*col{1'b0}}),
        .out_s(array_out), .valid(array_valid));

    ofifo #(.col(col), .psum_bw(psum_bw)) ofifo_instance (
        .clk(clk), .reset(reset), .wr(os ? {col{drain}} : array_valid), .rd(inst[6]), .in(array_out), .out(ofifo_out),
        .o_valid(ofifo_valid));

    sfu #(.col(col), .psum_bw(psum_bw), .RELU_EN(RELU_EN)) sfu_instance (
        .clk(clk), .reset(reset), .acc(acc), .in(sfu_in), .out(sfu_out));
endmodule
