// Timing probe of the adapter helpers (tb/adapter_api): a registered output q (q <= d at each rising edge,
// cleared by rst), a combinational one (y = d + 1), and a counter cnt of the edges since reset.
module probe (
    input            clk,
    input            rst,
    input      [7:0] d,
    output reg [7:0] q,
    output     [7:0] y,
    output reg [7:0] cnt
);
    assign y = d + 8'd1;
    always @(posedge clk) begin
        if (rst) begin
            q <= 8'd0;
            cnt <= 8'd0;
        end else begin
            q <= d;
            cnt <= cnt + 8'd1;
        end
    end
endmodule
