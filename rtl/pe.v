// Weight-stationary processing element with two weight buffers, each holding two weights.
//
// A token moves east one PE per cycle: activation, its valid bit, wsel (the buffer its fold uses), the
// activation mode, and an optional weight-load payload for the whole row. The PE loads its slice of the
// payload (its low and high weight) into the buffer NOT selected by the token, so the next fold's weights
// can ride on the current fold's tokens: every token of the previous fold has already passed this PE,
// and none of the next fold has arrived yet, even though the array is skewed. The payload moves east
// only with a load (wl): between loads its registers hold still. Psums move south one PE per cycle.
//
// mode 0: one A_W-bit activation times the low weight. mode 1: the activation word carries two
// (A_W/2)-bit activations (input channels 2r and 2r+1), each times its own weight (low, high).
module pe #(
    parameter integer A_W       = 4,
    parameter integer W_W       = 4,
    parameter integer PSUM_W    = 16,
    parameter integer COLS      = 8,
    parameter integer COL       = 0,    // which slice of the row payload belongs to this PE
    parameter integer STUCK_BIT = -1    // fault injection: >= 0 forces that psum bit to 1
) (
    input  wire                     clk,
    input  wire                     rst,
    input  wire [A_W-1:0]           a_in,
    input  wire                     valid_in,
    input  wire                     wsel_in,
    input  wire                     mode_in,
    input  wire                     wl_in,
    input  wire [COLS*2*W_W-1:0]    wl_data_in,   // PE c's {high, low} weight at [c*2*W_W +: 2*W_W]
    output reg  [A_W-1:0]           a_out,
    output reg                      valid_out,
    output reg                      wsel_out,
    output reg                      mode_out,
    output reg                      wl_out,
    output reg  [COLS*2*W_W-1:0]    wl_data_out,
    input  wire signed [PSUM_W-1:0] p_in,
    output reg  signed [PSUM_W-1:0] p_out
);
    localparam [PSUM_W-1:0] STUCK_MASK = (STUCK_BIT >= 0) ? ({{(PSUM_W-1){1'b0}}, 1'b1} << STUCK_BIT)
                                                          : {PSUM_W{1'b0}};
    reg  signed [W_W-1:0]    w0_lo, w0_hi, w1_lo, w1_hi;
    wire signed [W_W-1:0]    w_lo = wsel_in ? w1_lo : w0_lo;
    wire signed [W_W-1:0]    w_hi = wsel_in ? w1_hi : w0_hi;
    wire        [2*W_W-1:0]  mine = wl_data_in[COL*2*W_W +: 2*W_W];
    wire signed [PSUM_W-1:0] sum;

    mac #(.A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W)) u_mac (
        .a(a_in), .w0(w_lo), .w1(w_hi), .mode(mode_in), .psum_in(p_in), .psum_out(sum));

    always @(posedge clk) begin
        if (rst) begin
            valid_out <= 1'b0;
            wl_out    <= 1'b0;
            wsel_out  <= 1'b0;
            mode_out  <= 1'b0;
            w0_lo     <= {W_W{1'b0}};
            w0_hi     <= {W_W{1'b0}};
            w1_lo     <= {W_W{1'b0}};
            w1_hi     <= {W_W{1'b0}};
        end else begin
            valid_out <= valid_in;
            wl_out    <= wl_in;
            wsel_out  <= wsel_in;
            mode_out  <= mode_in;
            if (wl_in) begin
                if (wsel_in) {w0_hi, w0_lo} <= mine;
                else         {w1_hi, w1_lo} <= mine;
            end
        end
        a_out <= a_in;
        if (wl_in) wl_data_out <= wl_data_in;
        p_out <= sum | STUCK_MASK;
    end
endmodule
