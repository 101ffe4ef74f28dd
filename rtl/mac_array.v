// ROWS x COLS systolic array of weight-stationary PEs. Row r = input channel r of a tile, column c =
// output channel c. Tokens enter each row from the west (row r skewed by r cycles by the L0), psums start
// at zero on the north edge and leave on the south edge, column c one cycle after column c-1.
// Every link is its own wire (a generate-local net): Icarus is orders of magnitude slower when PEs are
// wired through slices of one wide vector.
module mac_array #(
    parameter integer ROWS       = 8,
    parameter integer COLS       = 8,
    parameter integer A_W        = 4,
    parameter integer W_W        = 4,
    parameter integer PSUM_W     = 16,
    parameter integer FAULT_ROW  = 0,
    parameter integer FAULT_COL  = 0,
    parameter integer FAULT_BIT  = -1
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire [ROWS*A_W-1:0]       a_west,
    input  wire [ROWS-1:0]           valid_west,
    input  wire [ROWS-1:0]           wsel_west,
    input  wire [ROWS-1:0]           mode_west,
    input  wire [ROWS-1:0]           os_west,
    input  wire [ROWS-1:0]           first_west,
    input  wire [COLS*2*W_W-1:0]     w_north,        // output-stationary: column c's step weights {hi, lo}
    input  wire [ROWS-1:0]           wl_west,
    input  wire [ROWS*COLS*2*W_W-1:0] wl_data_west,  // row r's payload at [r*COLS*2*W_W +: COLS*2*W_W]
    output wire [COLS*PSUM_W-1:0]    p_south,
    output wire [COLS-1:0]           valid_south,
    output wire [COLS*PSUM_W-1:0]    p_north,        // output-stationary: finished sums leaving the top
    output wire [COLS-1:0]           valid_north
);
    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            for (c = 0; c < COLS; c = c + 1) begin : g_col
                // the east outputs of the last column go nowhere
                /* verilator lint_off UNUSEDSIGNAL */
                wire [A_W-1:0]           a_i, a_o;
                wire                     v_i, v_o, s_i, s_o, m_i, m_o, o_i, o_o, f_i, f_o, l_i, l_o;
                wire [COLS*2*W_W-1:0]    d_i, d_o;
                /* verilator lint_on UNUSEDSIGNAL */
                wire signed [PSUM_W-1:0] p_i, p_o, u_i, u_o;
                wire                     uv_i, uv_o;
                if (c == 0) begin : g_west
                    assign a_i = a_west[r*A_W +: A_W];
                    assign v_i = valid_west[r];
                    assign s_i = wsel_west[r];
                    assign m_i = mode_west[r];
                    assign o_i = os_west[r];
                    assign f_i = first_west[r];
                    assign l_i = wl_west[r];
                    assign d_i = wl_data_west[r*COLS*2*W_W +: COLS*2*W_W];
                end else begin : g_link
                    assign a_i = g_row[r].g_col[c-1].a_o;
                    assign v_i = g_row[r].g_col[c-1].v_o;
                    assign s_i = g_row[r].g_col[c-1].s_o;
                    assign m_i = g_row[r].g_col[c-1].m_o;
                    assign o_i = g_row[r].g_col[c-1].o_o;
                    assign f_i = g_row[r].g_col[c-1].f_o;
                    assign l_i = g_row[r].g_col[c-1].l_o;
                    assign d_i = g_row[r].g_col[c-1].d_o;
                end
                // the top row's north input: zero for weight-stationary tokens, the step weights otherwise
                if (r == 0) begin : g_north
                    assign p_i = {{(PSUM_W - 2*W_W){1'b0}}, w_north[c*2*W_W +: 2*W_W]};
                    assign p_north[c*PSUM_W +: PSUM_W] = u_o;
                    assign valid_north[c]              = uv_o;
                end else begin : g_down
                    assign p_i = g_row[r-1].g_col[c].p_o;
                end
                if (r == ROWS - 1) begin : g_bottom
                    assign u_i  = {PSUM_W{1'b0}};
                    assign uv_i = 1'b0;
                end else begin : g_up
                    assign u_i  = g_row[r+1].g_col[c].u_o;
                    assign uv_i = g_row[r+1].g_col[c].uv_o;
                end
                pe #(
                    .A_W(A_W), .W_W(W_W), .PSUM_W(PSUM_W), .COLS(COLS), .COL(c),
                    .STUCK_BIT((r == FAULT_ROW && c == FAULT_COL) ? FAULT_BIT : -1)
                ) u_pe (
                    .clk(clk), .rst(rst),
                    .a_in(a_i), .valid_in(v_i), .wsel_in(s_i), .mode_in(m_i), .os_in(o_i), .first_in(f_i),
                    .wl_in(l_i), .wl_data_in(d_i),
                    .a_out(a_o), .valid_out(v_o), .wsel_out(s_o), .mode_out(m_o), .os_out(o_o), .first_out(f_o),
                    .wl_out(l_o), .wl_data_out(d_o),
                    .p_in(p_i), .p_out(p_o), .up_in(u_i), .up_v_in(uv_i), .up_out(u_o), .up_v_out(uv_o)
                );
                if (r == ROWS - 1) begin : g_south
                    assign p_south[c*PSUM_W +: PSUM_W] = p_o;
                    assign valid_south[c]              = v_o && !o_o;   // output-stationary tokens carry no psum
                end
            end
        end
    endgenerate
endmodule
