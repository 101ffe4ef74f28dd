// MAC: psum_out = psum_in + product, the product built from two (A_W/2)-bit x W_W-bit partial products
// (one multiplier structure for both activation modes).
//   mode 0 (A_W-bit activations): a = hi*2^(A_W/2) + lo, product = (hi*w0 << A_W/2) + lo*w0 = a*w0
//   mode 1 (two A_W/2-bit activations per row, channels 2r and 2r+1): product = lo*w0 + hi*w1
// Activations unsigned (zero-extended), weights two's complement.
module mac #(
    parameter integer A_W    = 4,
    parameter integer W_W    = 4,
    parameter integer PSUM_W = 16
) (
    input  wire        [A_W-1:0]    a,
    input  wire signed [W_W-1:0]    w0,
    input  wire signed [W_W-1:0]    w1,
    input  wire                     mode,
    input  wire signed [PSUM_W-1:0] psum_in,
    output wire signed [PSUM_W-1:0] psum_out
);
    localparam integer H      = A_W / 2;          // A_W must be even
    localparam integer PP_W   = H + 1 + W_W;      // one partial product: (H+1)-bit signed x W_W-bit
    localparam integer PROD_W = A_W + W_W + 2;    // the sum of both, shifted or not
    wire signed [H:0]        lo   = {1'b0, a[H-1:0]};
    wire signed [H:0]        hi   = {1'b0, a[A_W-1:H]};
    wire signed [W_W-1:0]    w_hi = mode ? w1 : w0;
    wire signed [PP_W-1:0]   p_lo = lo * w0;
    wire signed [PP_W-1:0]   p_hi = hi * w_hi;
    wire signed [PROD_W-1:0] p_lo_x = {{(PROD_W - PP_W){p_lo[PP_W-1]}}, p_lo};
    wire signed [PROD_W-1:0] p_hi_x = {{(PROD_W - PP_W){p_hi[PP_W-1]}}, p_hi};
    wire signed [PROD_W-1:0] prod   = p_lo_x + (mode ? p_hi_x : (p_hi_x <<< H));
    wire signed [PSUM_W-1:0] prod_ext = {{(PSUM_W - PROD_W){prod[PROD_W-1]}}, prod};
    assign psum_out = psum_in + prod_ext;
endmodule
