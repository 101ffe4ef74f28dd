// SFU: accumulates psum vectors into the accumulator SRAM and emits the finished sums (optionally ReLU'd).
//
// Each psum vector comes with a tag: accumulator address, clear (first contribution: start from 0), last
// (final contribution: emit the sum) and relu. The accumulator is read ahead: the core issues the read of a
// tag's address (rd_en, rd_addr) in the cycle the tag becomes the head of its tag queue (the queue's head
// register: core.v), so the memory's output already holds the head's word when its vector arrives; the take
// registers it (with the psum), and stage 1 adds and writes back from registers alone. No path runs from the
// memory's read port through the adder (the core's slowest path before: docs/synth.md), and no cycle is added.
// A word read ahead goes stale when an older vector's sum is written to its address at or after the read (in
// the read's own cycle the memory returns the old word): the take then registers that sum instead (the one
// written in its own cycle, or one of the last two kept beside the memory), so back-to-back contributions to
// one address are correct.
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
    input  wire                    rd_en,         // a tag becomes the head of the tag queue: read its address
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0]             rd_addr,       // ahead (in_addr from the next cycle until the head is taken;
    /* verilator lint_on UNUSEDSIGNAL */          // the memory reads its low bits, as it does in_addr's)
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

    reg                    v1, last1, relu1;
    reg [COLS*PSUM_W-1:0]  psum1;
    reg [15:0]             addr1;
    reg [COLS*ACC_W-1:0]   prev1;      // what the sum adds to: 0 (clear), else the word read ahead or a sum
                                       // written to it since
    // the last two sums written and their addresses (shifted on each write). Not reset, no valid bit: a tag
    // without clear adds to a sum written since reset (every command starts its sums with clear), so the take
    // consults them only once they hold such writes (mutation testing found their valid bits unobservable)
    reg [AW-1:0]           w1_addr, w2_addr;
    reg [COLS*ACC_W-1:0]   w1_data, w2_data;
    wire [COLS*ACC_W-1:0]  rdata;
    wire [COLS*ACC_W-1:0]  sum1;
    wire [COLS*ACC_W-1:0]  relu_sum1;

    sram_1r1w #(.WIDTH(COLS*ACC_W), .DEPTH(DEPTH)) u_acc (
        .clk(clk), .ren(rd_en), .raddr(rd_addr[AW-1:0]), .rdata(rdata),
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
            wire signed [ACC_W-1:0]  s    = $signed(prev1[c*ACC_W +: ACC_W]) + p_x;
            assign sum1[c*ACC_W +: ACC_W]      = s;
            assign relu_sum1[c*ACC_W +: ACC_W] = s[ACC_W-1] ? {ACC_W{1'b0}} : s;
        end
    endgenerate

    // The word read ahead is stale when a sum was written to its address at or after its read. After the head's
    // read (in the cycle it became the head) at most two sums are written before its take -- in that cycle and
    // the next (the vector taken then) -- since only the head can be taken meanwhile; so a newer value of its
    // word than the memory's is the sum written in the take's cycle, else the last or the one before it among
    // the last two sums, when written to its address. Registers alone choose it (no enable follows the take).
    wire hit_now = v1 && (addr1[AW-1:0] == in_addr[AW-1:0]);
    wire hit_w1  = (w1_addr == in_addr[AW-1:0]);
    wire hit_w2  = (w2_addr == in_addr[AW-1:0]);
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0;
        end else begin
            v1 <= fire0;
        end
        if (v1) begin
            w1_addr <= addr1[AW-1:0];
            w1_data <= sum1;
            w2_addr <= w1_addr;
            w2_data <= w1_data;
        end
        // stage 1's data every cycle, read only with v1: the take enables none of these registers (its fan-out
        // to their enables was the next slowest path, docs/synth.md)
        psum1 <= in_psum;
        addr1 <= in_addr;
        last1 <= in_last;
        relu1 <= in_relu;
        prev1 <= in_clear ? {COLS*ACC_W{1'b0}} : hit_now ? sum1 : hit_w1 ? w1_data : hit_w2 ? w2_data : rdata;
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
