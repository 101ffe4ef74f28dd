// Processing element of both dataflows, chosen per token (os): weight-stationary with two weight buffers of
// two weights each, or output-stationary with a stationary sum.
//
// A token moves east one PE per cycle: its activation and valid bit pass through this PE's registers. Its
// control (wsel: the buffer its fold uses; the activation mode; os; first; wl: a weight load) does not: every
// PE of an anti-diagonal sees the same token in the same cycle (the skew delays row r by r cycles, each
// column one more), so mac_array.v carries the control once per diagonal and this PE only reads it. With wl
// the PE loads its own two weights (wl_w_in: {high, low}, read for this PE from its anti-diagonal's weight
// bank in the very cycle the token arrives, see core.v) into the buffer NOT selected by the token, so the
// next fold's weights ride on the current fold's tokens: every token of the previous fold has already passed
// this PE, and none of the next fold has arrived yet, even though the array is skewed. No weight travels
// between PEs. Psums move south one PE per cycle.
//
// mode 0: one A_W-bit activation times the low weight. mode 1: the activation word carries two
// (A_W/2)-bit activations (input channels 2r and 2r+1), each times its own weight (low, high).
//
// Output-stationary (os): the activation still comes from the west, the step's weights {high, low} come
// from the north in the low bits of p_in and leave south through p_out -- the register that carries psums
// in weight-stationary mode -- one PE per cycle. acc accumulates this PE's output over the steps of a block
// through the same MAC. A token with `first` starts the next block: the finished sum moves into the upward
// drain chain (up), which shifts one row up per cycle and leaves the array at the top; the bottom row's up
// input is empty. Rows start one cycle apart (the skew), so a row's sum enters the chain one cycle after the
// row above moved its own on: nothing collides, and the chain empties while the next block computes.
module pe #(
    parameter integer A_W       = 4,
    parameter integer W_W       = 4,
    parameter integer PSUM_W    = 16,
    parameter integer STUCK_BIT = -1    // fault injection: >= 0 forces that bit of the adder's result to 1
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [A_W-1:0]           a_in,
    input  wire                     valid_in,
    input  wire                     wsel_in,
    input  wire                     mode_in,
    input  wire                     os_in,
    input  wire                     first_in,
    input  wire                     wl_in,
    input  wire [2*W_W-1:0]         wl_w_in,      // {high, low}: this PE's weights, read with wl_in only
    output reg  [A_W-1:0]           a_out,
    output reg                      valid_out,
    input  wire signed [PSUM_W-1:0] p_in,
    output reg  signed [PSUM_W-1:0] p_out,
    input  wire signed [PSUM_W-1:0] up_in,        // output-stationary drain chain, from the PE below
    input  wire                     up_v_in,
    output reg  signed [PSUM_W-1:0] up_out,
    output reg                      up_v_out
);
    localparam [PSUM_W-1:0] STUCK_MASK = (STUCK_BIT >= 0) ? ({{(PSUM_W-1){1'b0}}, 1'b1} << STUCK_BIT)
                                                          : {PSUM_W{1'b0}};
    // the two weight buffers, buffer b = {high, low}: a two-word memory written at one index and read at
    // another, which an FPGA flow maps to distributed RAM (two LUT RAMs per PE on an ECP5) instead of 16
    // flip-flops: 1,024 of the 8x8 core's 6,342 (docs/synth.md). Written as one indexed write and one indexed
    // read on purpose: a write per buffer (if/else on wsel) or a read per buffer makes Yosys keep flip-flops.
    (* ram_style = "distributed" *) reg [2*W_W-1:0] wbuf [0:1];
    reg  signed [PSUM_W-1:0] acc;        // output-stationary: this PE's sum of the current block
    reg                      has_block;  // acc holds a block's (partial) sum
    wire        [2*W_W-1:0]  w_north = p_in[2*W_W-1:0];
    wire        [2*W_W-1:0]  w_sel = wbuf[wsel_in];
    wire signed [W_W-1:0]    w_lo = os_in ? w_north[W_W-1:0] : w_sel[W_W-1:0];
    wire signed [W_W-1:0]    w_hi = os_in ? w_north[2*W_W-1:W_W] : w_sel[2*W_W-1:W_W];
    // one MAC for both: WS adds to the psum from the north, OS to its own sum (0 at a block's first step)
    wire signed [PSUM_W-1:0] addend = !os_in ? p_in : (first_in ? {PSUM_W{1'b0}} : acc);
    wire signed [PSUM_W-1:0] sum;
    // fault knob on a line of its own (tests only): every functional line stays open to mutation
    wire signed [PSUM_W-1:0] sum_k = sum | STUCK_MASK;

    mac #(.A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W)) u_mac (
        .a(a_in), .w0(w_lo), .w1(w_hi), .mode(mode_in), .psum_in(addend), .psum_out(sum));

    // reset: the flag that makes a token act (valid; the weight load is mac_array.v's, reset there) and the
    // output-stationary sum state. Not reset: data (the weight buffers: a command loads its buffer before its
    // first token reads it; the activation, read with a valid token only). Mutation testing found such reset
    // values unobservable, and a reset that nothing reads only costs area.
    always @(posedge clk) begin
        if (rst) begin
            valid_out <= 1'b0;
            acc       <= {PSUM_W{1'b0}};
            has_block <= 1'b0;
            up_out    <= {PSUM_W{1'b0}};
            up_v_out  <= 1'b0;
        end else begin
            valid_out <= valid_in;
            // a block start hands a finished sum to the chain; with no block held (the first block, or right
            // after a flush) the chain keeps moving, so back-to-back starts never overwrite a climbing sum
            if (os_in && first_in && has_block) begin
                up_out    <= acc;
                up_v_out  <= 1'b1;
            end else begin
                up_out    <= up_in;
                up_v_out  <= up_v_in;
            end
            if (os_in && first_in) begin
                acc       <= valid_in ? sum_k : {PSUM_W{1'b0}};
                has_block <= valid_in;
            end else if (os_in && valid_in) begin
                acc       <= sum_k;
                has_block <= 1'b1;
            end
        end
        a_out     <= a_in;
        if (wl_in) wbuf[!wsel_in] <= wl_w_in;
        // WS: the psum moves south; OS: the step's weights move south in its low bits
        p_out <= os_in ? {{(PSUM_W - 2*W_W){1'b0}}, w_north} : sum_k;
    end
endmodule
