// SFU: accumulates psum vectors into the accumulator SRAM and emits the finished sums (optionally ReLU'd).
//
// Each psum vector comes with a tag: accumulator address, clear (first contribution: start from 0), last
// (final contribution: emit the sum) and relu. Two stages: stage 0 reads the accumulator, stage 1 adds and
// writes back. A read of the address stage 1 is writing gets stage 1's sum forwarded, so back-to-back
// contributions to one address are correct.
//
// Width: one output sums n_ic*ROWS*9 products of |a| <= 2^A_W-1 and |w| <= 2^(W_W-1), so
// |sum| <= n_ic*ROWS*9*(2^A_W-1)*2^(W_W-1). Layer 27 (8 input channels, 4-bit): 8*9*15*8 = 8640 < 2^15,
// so ACC_W = 16 suffices; the 512-channel layers need 512*9*15*8 = 552960 < 2^20, so ACC_W >= 21.
// In the 2-bit mode a tile has 2*ROWS channels of |a| <= 3: |sum| <= n_ic*2*ROWS*9*3*2^(W_W-1). Layer 27 of
// the 2a4w network (16 channels): 16*9*3*8 = 3456; 512 channels: 512*9*3*8 = 110592 < 2^17, ACC_W >= 18.
// accel_host.config.sum_bound states both; the mapper refuses a layer whose bound does not fit ACC_W.
module sfu #(
    parameter integer COLS   = 8,
    parameter integer PSUM_W = 16,
    parameter integer ACC_W  = 16,
    parameter integer DEPTH  = 256
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    in_valid,
    output wire                    in_ready,
    input  wire [COLS*PSUM_W-1:0]  in_psum,
    input  wire [15:0]             in_addr,
    input  wire                    in_clear,
    input  wire                    in_last,
    input  wire                    in_relu,
    input  wire                    out_space_ok,  // the output FIFO has room for two more results
    output wire                    out_valid,
    output wire [COLS*ACC_W-1:0]   out_data,      // ReLU'd when the tag asked for it (read with out_valid)
    output wire [15:0]             out_addr,
    output wire [COLS*ACC_W-1:0]   acc_data,      // the raw sum, alongside out_data
    output wire                    active         // stage 1 holds a vector (its sum is written back this cycle)
);
    localparam integer AW = $clog2(DEPTH);
    wire fire0 = in_valid && out_space_ok;
    assign in_ready = out_space_ok;

    reg                    v1, clear1, last1, relu1, fwd1;
    reg [COLS*PSUM_W-1:0]  psum1;
    reg [15:0]             addr1;
    reg [COLS*ACC_W-1:0]   fwd_data;
    wire [COLS*ACC_W-1:0]  rdata;
    wire [COLS*ACC_W-1:0]  sum1;
    wire [COLS*ACC_W-1:0]  relu_sum1;

    sram_1r1w #(.WIDTH(COLS*ACC_W), .DEPTH(DEPTH)) u_acc (
        .clk(clk), .ren(fire0), .raddr(in_addr[AW-1:0]), .rdata(rdata),
        .we(v1), .waddr(addr1[AW-1:0]), .wdata(sum1));

    genvar c;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_lane
            wire signed [PSUM_W-1:0] p    = psum1[c*PSUM_W +: PSUM_W];
            wire signed [ACC_W-1:0]  p_x;
            if (ACC_W > PSUM_W) begin : g_ext
                assign p_x = {{(ACC_W - PSUM_W){p[PSUM_W-1]}}, p};
            end else begin : g_same
                assign p_x = p;
            end
            wire signed [ACC_W-1:0]  prev = clear1 ? {ACC_W{1'b0}}
                                          : (fwd1 ? fwd_data[c*ACC_W +: ACC_W] : rdata[c*ACC_W +: ACC_W]);
            wire signed [ACC_W-1:0]  s    = prev + p_x;
            assign sum1[c*ACC_W +: ACC_W]      = s;
            assign relu_sum1[c*ACC_W +: ACC_W] = s[ACC_W-1] ? {ACC_W{1'b0}} : s;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
        end else begin
            v1 <= fire0;
        end
        if (fire0) begin
            psum1  <= in_psum;
            addr1  <= in_addr;
            clear1 <= in_clear;
            last1  <= in_last;
            relu1  <= in_relu;
            fwd1   <= v1 && (addr1[AW-1:0] == in_addr[AW-1:0]);
        end
        fwd_data <= sum1;
    end

    // the address and the raw sum (core ports: acc_addr, acc_data) are zero unless a sum is emitted this cycle:
    // stage 1's registers hold no value before the first psum (the 4-state check: no X on the core's ports after
    // reset). out_data is not gated: only the output FIFO reads it, when out_valid writes it, and the gate sat
    // on the core's slowest path, from the accumulator's read port through the adder (docs/synth.md)
    assign out_valid = v1 && last1;
    assign out_data  = relu1 ? relu_sum1 : sum1;
    assign out_addr  = out_valid ? addr1 : 16'd0;
    assign acc_data  = out_valid ? sum1 : {COLS*ACC_W{1'b0}};
    assign active    = v1;
endmodule
