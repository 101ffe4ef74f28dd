// One array row: activations (and, while loading, weights) move east one tile per cycle.
// Wiring: every vector built from per-tile parts is a chain of concatenations, one driver per net, not one
// net driven slice by slice (the course files' `temp[...]` style): Icarus resolves such a net bit by bit
// on every change (before this, 43% of vvp's samples in tb/byoc: docs/verification.md). Same ports, same
// cycles.
module mac_row #(parameter bw = 4, parameter psum_bw = 16, parameter col = 8) (
    input                     clk,
    input                     reset,
    input                     mode,
    input                     os,
    input                     drain,
    input  [bw-1:0]           in_w,
    input  [1:0]              inst_w,
    input  [psum_bw*col-1:0]  in_n,
    output [psum_bw*col-1:0]  out_s,
    output [col-1:0]          valid
);
    genvar i;
    generate
        for (i = 1; i < col + 1; i = i + 1) begin : col_num
            wire [bw-1:0]        a_w, a_e;      // the activation from the west, to the east
            wire [1:0]           i_w, i_e;      // the instruction from the west, to the east
            wire [psum_bw-1:0]   s;             // this tile's psum south
            wire [psum_bw*i-1:0] s_chain;       // tiles 1..i's psums (out_s at the last tile)
            wire [i-1:0]         v_chain;       // tiles 1..i's execute bits (valid at the last tile)
            if (i == 1) begin : g_first
                assign a_w     = in_w;
                assign i_w     = inst_w;
                assign s_chain = s;
                assign v_chain = i_e[1];
            end else begin : g_next
                assign a_w     = col_num[i-1].a_e;
                assign i_w     = col_num[i-1].i_e;
                assign s_chain = {s, col_num[i-1].s_chain};
                assign v_chain = {i_e[1], col_num[i-1].v_chain};
            end
            mac_tile #(.bw(bw), .psum_bw(psum_bw)) mac_tile_instance (
                .clk(clk), .reset(reset), .mode(mode), .os(os), .drain(drain),
                .in_w(a_w), .out_e(a_e), .inst_w(i_w), .inst_e(i_e),
                .in_n(in_n[psum_bw*i-1:psum_bw*(i-1)]), .out_s(s));
        end
    endgenerate
    assign out_s = col_num[col].s_chain;
    assign valid = col_num[col].v_chain;
endmodule
