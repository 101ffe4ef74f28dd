// MAC: psum_out = psum_in + product, the product built from two (A_W/2)-bit x W_W-bit partial products
// (one multiplier structure for both activation modes).
//   mode 0 (A_W-bit activations): a = hi*2^(A_W/2) + lo, product = (hi*w0 << A_W/2) + lo*w0 = a*w0
//   mode 1 (two A_W/2-bit activations per row, channels 2r and 2r+1): product = lo*w0 + hi*w1
// Activations unsigned (zero-extended), weights two's complement.
// Each partial product is H shifted adds of the weight, not a `*`: an (A_W/2)-bit by W_W-bit product is a
// few LUTs, and an FPGA flow maps `*` to a DSP multiplier (two per PE: on an ECP5, 128 of the 8x8 core's
// 133 MULT18X18D, and a DSP in the middle of the PE's critical path; docs/synth.md).
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
    localparam integer PP_W   = H + 1 + W_W;      // one partial product: H-bit unsigned x W_W-bit signed
    localparam integer PROD_W = A_W + W_W + 2;    // the sum of both, shifted or not
    wire signed [W_W-1:0]    w_hi = mode ? w1 : w0;
    wire signed [PP_W-1:0]   p_lo = times(a[H-1:0], w0);      // the low half times the low weight
    wire signed [PP_W-1:0]   p_hi = times(a[A_W-1:H], w_hi);  // the high half times either
    wire signed [PROD_W-1:0] p_lo_x = {{(PROD_W - PP_W){p_lo[PP_W-1]}}, p_lo};
    wire signed [PROD_W-1:0] p_hi_x = {{(PROD_W - PP_W){p_hi[PP_W-1]}}, p_hi};
    wire signed [PROD_W-1:0] prod   = p_lo_x + (mode ? p_hi_x : (p_hi_x <<< H));
    wire signed [PSUM_W-1:0] prod_ext = {{(PSUM_W - PROD_W){prod[PROD_W-1]}}, prod};
    assign psum_out = psum_in + prod_ext;

    // x * w for an unsigned H-bit x and a signed W_W-bit w: the sum of w << i over x's set bits i
    function automatic signed [PP_W-1:0] times(input [H-1:0] x, input signed [W_W-1:0] w);
        integer i;
        begin
            times = {PP_W{1'b0}};
            for (i = 0; i < H; i = i + 1)
                if (x[i]) times = times + ({{(PP_W - W_W){w[W_W-1]}}, w} <<< i);
        end
    endfunction
endmodule
