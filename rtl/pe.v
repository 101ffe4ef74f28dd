// Weight-stationary processing element with two weight buffers.
//
// A token moves east one PE per cycle: activation, its valid bit, wsel (the buffer its fold uses) and an
// optional weight-load payload for the whole row. The PE loads its slice of the payload into the buffer
// NOT selected by the token, so the next fold's weights can ride on the current fold's tokens: every
// token of the previous fold has already passed this PE, and none of the next fold has arrived yet, even
// though the array is skewed. Psums move south one PE per cycle.
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
    input  wire                     wl_in,
    input  wire [COLS*W_W-1:0]      wl_data_in,
    output reg  [A_W-1:0]           a_out,
    output reg                      valid_out,
    output reg                      wsel_out,
    output reg                      wl_out,
    output reg  [COLS*W_W-1:0]      wl_data_out,
    input  wire signed [PSUM_W-1:0] p_in,
    output reg  signed [PSUM_W-1:0] p_out
);
    localparam [PSUM_W-1:0] STUCK_MASK = (STUCK_BIT >= 0) ? ({{(PSUM_W-1){1'b0}}, 1'b1} << STUCK_BIT)
                                                          : {PSUM_W{1'b0}};
    reg  signed [W_W-1:0]    w0, w1;
    wire signed [W_W-1:0]    w_act = wsel_in ? w1 : w0;
    wire signed [PSUM_W-1:0] sum;

    mac #(.A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W)) u_mac (
        .a(a_in), .w(w_act), .psum_in(p_in), .psum_out(sum));

    always @(posedge clk) begin
        if (rst) begin
            valid_out <= 1'b0;
            wl_out    <= 1'b0;
            wsel_out  <= 1'b0;
            w0        <= {W_W{1'b0}};
            w1        <= {W_W{1'b0}};
        end else begin
            valid_out <= valid_in;
            wl_out    <= wl_in;
            wsel_out  <= wsel_in;
            if (wl_in) begin
                if (wsel_in) w0 <= wl_data_in[COL*W_W +: W_W];
                else         w1 <= wl_data_in[COL*W_W +: W_W];
            end
        end
        a_out       <= a_in;
        wl_data_out <= wl_data_in;
        p_out       <= sum | STUCK_MASK;
    end
endmodule
