// MAC: psum_out = psum_in + a * w, a unsigned (zero-extended), w two's complement.
module mac #(
    parameter integer A_W    = 4,
    parameter integer W_W    = 4,
    parameter integer PSUM_W = 16
) (
    input  wire        [A_W-1:0]    a,
    input  wire signed [W_W-1:0]    w,
    input  wire signed [PSUM_W-1:0] psum_in,
    output wire signed [PSUM_W-1:0] psum_out
);
    localparam integer PROD_W = A_W + W_W + 1;
    wire signed [A_W:0]        a_s  = {1'b0, a};
    wire signed [PROD_W-1:0]   prod = a_s * w;
    wire signed [PSUM_W-1:0]   prod_ext = {{(PSUM_W - PROD_W){prod[PROD_W-1]}}, prod};
    assign psum_out = psum_in + prod_ext;
endmodule
